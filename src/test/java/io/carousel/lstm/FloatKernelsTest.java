package io.carousel.lstm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The float32 squashing functions of {@link LstmStepperF32}, held to java.lang.Math in double. */
class FloatKernelsTest {

    private static final double EPS = Math.ulp(1f); // 2^-23

    /** Points: a dense grid over [-12, 12] (past the clamp), then random ones near 0 and far out. */
    private static float[] points(int n) {
        float[] z = new float[n];
        SplittableRandom r = new SplittableRandom(3);
        for (int i = 0; i < n; i++) {
            z[i] = i < n / 2 ? (float) (-12 + 24.0 * i / (n / 2 - 1))
                    : (float) ((r.nextDouble() * 2 - 1) * (r.nextBoolean() ? 12 : 1e-4));
        }
        return z;
    }

    /**
     * The rational function (Eigen's and XLA's float tanh) is within 3.3 float epsilons of tanh,
     * both absolutely and relatively, the worst near |x| = 5.8; held to 4 here, in the vector loop
     * and its scalar tail (odd lengths).
     */
    @Test
    void tanhIsWithinFourFloatEpsilonsOfMathTanh() {
        for (int n : new int[] {1, 7, 160, 400_001}) {
            float[] z = points(n);
            float[] a = z.clone();
            FloatKernels.tanh(a, n);
            double worstAbs = 0;
            double worstRel = 0;
            for (int i = 0; i < n; i++) {
                double t = Math.tanh(z[i]);
                worstAbs = Math.max(worstAbs, Math.abs(a[i] - t));
                if (t != 0) {
                    worstRel = Math.max(worstRel, Math.abs(a[i] - t) / Math.abs(t));
                } else {
                    assertEquals(0f, Math.abs(a[i]), "tanh(" + z[i] + ")");
                }
            }
            assertTrue(worstAbs < 4 * EPS, n + " points: worst absolute error " + worstAbs / EPS + " eps");
            assertTrue(worstRel < 4 * EPS, n + " points: worst relative error " + worstRel / EPS + " eps");
        }
    }

    /** sigmoid(x) = (1 + tanh(x / 2)) / 2, as the stepper computes it, within 2.5 epsilons (1.9 measured). */
    @Test
    void sigmoidThroughTanhIsWithinTwoAndAHalfFloatEpsilons() {
        float[] z = points(400_000);
        double worst = 0;
        for (float x : z) {
            double s = 1 / (1 + Math.exp(-2.5 * x)); // the grid's [-12, 12] stretched to [-30, 30]
            double mine = 0.5f + 0.5f * FloatKernels.tanh(0.5f * (float) (2.5 * x));
            worst = Math.max(worst, Math.abs(mine - s));
        }
        assertTrue(worst < 2.5 * EPS, "worst absolute error " + worst / EPS + " eps");
    }

    @Test
    void tanhSaturatesToOneAndKeepsNaN() {
        float[] big = {9f, 20f, 1e30f, Float.POSITIVE_INFINITY};
        float[] a = new float[2 * big.length + 3];
        for (int i = 0; i < big.length; i++) {
            a[2 * i] = big[i];
            a[2 * i + 1] = -big[i];
        }
        a[2 * big.length] = Float.NaN;
        a[2 * big.length + 1] = 0f;
        a[2 * big.length + 2] = -0f;
        FloatKernels.tanh(a, a.length);
        for (int i = 0; i < big.length; i++) {
            assertEquals(1f, a[2 * i], Math.ulp(1f), "tanh(" + big[i] + ")");
            assertEquals(-1f, a[2 * i + 1], Math.ulp(1f), "tanh(-" + big[i] + ")");
        }
        assertTrue(Float.isNaN(a[2 * big.length]));
        assertEquals(0f, a[2 * big.length + 1]);
        assertEquals(-0f, a[2 * big.length + 2]); // odd, to the sign of zero
    }

    @Test
    void axpyRowsAddsEveryRowInOrder() {
        int k = 7;
        int n = 37;
        SplittableRandom r = new SplittableRandom(9);
        float[][] rows = new float[k][n];
        float[] v = new float[k];
        float[] g = new float[n];
        for (int c = 0; c < k; c++) {
            v[c] = (float) r.nextGaussian();
            for (int i = 0; i < n; i++) {
                rows[c][i] = (float) r.nextGaussian();
            }
        }
        for (int i = 0; i < n; i++) {
            g[i] = (float) r.nextGaussian();
        }
        float[] expected = g.clone();
        for (int i = 0; i < n; i++) {
            for (int c = 0; c < k; c++) {
                expected[i] += v[c] * rows[c][i];
            }
        }
        FloatKernels.axpyRows(g, rows, v, k, n);
        for (int i = 0; i < n; i++) {
            assertEquals(expected[i], g[i], 0f, "element " + i); // the same additions in the same order
        }
    }
}
