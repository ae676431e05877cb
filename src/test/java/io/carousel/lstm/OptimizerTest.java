package io.carousel.lstm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class OptimizerTest {

    @Test
    void shouldTakeALearningRateSizedFirstAdamStepWhateverTheGradientScale() {
        // bias correction: the first step is lr * g / (|g| + eps') = lr * sign(g)
        double[] p = {1.0, 1.0, 1.0};
        Optimizer adam = Optimizer.adam(3, 0.1);
        adam.step(p, new double[] {1e-3, -50, 7});
        assertEquals(0.9, p[0], 1e-6);
        assertEquals(1.1, p[1], 1e-9);
        assertEquals(0.9, p[2], 1e-9);
    }

    @Test
    void shouldMinimiseAQuadraticWithEitherOptimizer() {
        for (Optimizer opt : new Optimizer[] {Optimizer.adam(2, 0.05), Optimizer.sgd(2, 0.1, 0.9, 0)}) {
            double[] p = {3, -2};
            double[] g = new double[2];
            for (int i = 0; i < 500; i++) {
                g[0] = 2 * (p[0] - 1);
                g[1] = 2 * (p[1] + 1);
                opt.step(p, g);
            }
            assertEquals(1, p[0], 1e-3);
            assertEquals(-1, p[1], 1e-3);
        }
    }

    @Test
    void shouldClipTheGlobalNormOnlyWhenAbove() {
        double[] g = {3, 4};
        assertEquals(5, Optimizer.clipGradNorm(g, 1.0), 1e-12);
        assertEquals(1.0, Math.hypot(g[0], g[1]), 1e-6);
        double[] small = {0.3, 0.4};
        Optimizer.clipGradNorm(small, 1.0);
        assertEquals(0.3, small[0], 0.0);
    }

    @Test
    void shouldRejectBadHyperParametersNamingThem() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Optimizer.adam(1, -1));
        assertTrue(e.getMessage().contains("learning rate"));
        e = assertThrows(IllegalArgumentException.class, () -> Optimizer.sgd(1, 0.1, 1.5, 0));
        assertTrue(e.getMessage().contains("momentum"));
    }
}
