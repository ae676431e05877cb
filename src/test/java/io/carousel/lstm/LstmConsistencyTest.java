package io.carousel.lstm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The batched, sequential and single-step paths compute the same thing; seeds make runs repeatable. */
class LstmConsistencyTest {

    private final LstmShape shape = new LstmShape(2, 6, 2, 3);
    private final SplittableRandom random = new SplittableRandom(21);

    @Test
    void shouldGiveEachSequenceOfABatchTheSameOutputsAndGradientsAsAlone() {
        LstmModel model = LstmModel.init(shape, 1);
        int b = 4;
        int t = 7;
        double[] x = GradientCheckTest.gaussian(random, b * t * 2);
        double[] y = GradientCheckTest.gaussian(random, b * t * 3);
        LstmBptt bptt = new LstmBptt(model);
        double[] out = new double[b * t * 3];
        bptt.forward(x, b, t, null, null, out, null, null);
        double[] batchGrad = new double[model.parameterCount()];
        double batchLoss = bptt.forwardBackward(x, y, b, t, false, null, null, batchGrad, null, null);

        LstmBptt single = new LstmBptt(model);
        double[] sumGrad = new double[batchGrad.length];
        double[] g = new double[batchGrad.length];
        double sumLoss = 0;
        for (int i = 0; i < b; i++) {
            double[] xi = Arrays.copyOfRange(x, i * t * 2, (i + 1) * t * 2);
            double[] yi = Arrays.copyOfRange(y, i * t * 3, (i + 1) * t * 3);
            double[] oi = new double[t * 3];
            single.forward(xi, 1, t, null, null, oi, null, null);
            assertArrayEquals(Arrays.copyOfRange(out, i * t * 3, (i + 1) * t * 3), oi, 1e-13);
            sumLoss += single.forwardBackward(xi, yi, 1, t, false, null, null, g, null, null);
            for (int k = 0; k < g.length; k++) {
                sumGrad[k] += g[k] / b; // the batch loss is the mean of the sequences' losses
            }
        }
        assertEquals(sumLoss / b, batchLoss, 1e-13);
        assertArrayEquals(sumGrad, batchGrad, 1e-12);
    }

    @Test
    void shouldStepOneEventAtATimeExactlyAsTheSequenceForward() {
        LstmModel model = LstmModel.init(shape, 2);
        int t = 9;
        double[] x = GradientCheckTest.gaussian(random, t * 2);
        double[] out = new double[t * 3];
        double[] hn = new double[2 * 6];
        double[] cn = new double[2 * 6];
        new LstmBptt(model).forward(x, 1, t, null, null, out, hn, cn);
        double[] stepped = PyTorchParityTest.stepAll(model, x);
        assertArrayEquals(out, stepped, 1e-13);

        double[] state = new double[shape.stateSize()];
        double[] o = new double[3];
        LstmStepper stepper = new LstmStepper(model);
        for (int i = 0; i < t; i++) {
            stepper.step(x, i * 2, state, 0, o, 0);
        }
        // state = h of every layer, then c of every layer
        assertArrayEquals(hn, Arrays.copyOfRange(state, 0, 12), 1e-13);
        assertArrayEquals(cn, Arrays.copyOfRange(state, 12, 24), 1e-13);
    }

    @Test
    void shouldGiveTheSameWeightsAndTrainingRunForTheSameSeedBitForBit() {
        assertEquals(LstmModel.init(shape, 99), LstmModel.init(shape, 99));
        assertNotEquals(LstmModel.init(shape, 99), LstmModel.init(shape, 100));
        double bound = 1 / Math.sqrt(shape.hiddenSize());
        for (double v : LstmModel.init(shape, 99).params()) {
            assertTrue(Math.abs(v) <= bound, "PyTorch's default init bound");
        }
        double[] series = GradientCheckTest.gaussian(random, 120 * 2);
        LstmModel a = trainedCopy(series);
        LstmModel b = trainedCopy(series);
        assertArrayEquals(a.params(), b.params(), 0.0);
        assertNotEquals(LstmModel.init(shape, 5), a, "training changed the weights");
    }

    private LstmModel trainedCopy(double[] series) {
        LstmModel m = LstmModel.init(new LstmShape(2, 6, 2, 2), 5);
        Optimizer adam = Optimizer.adam(m.parameterCount(), 0.01);
        new SeriesTrainer(m, adam, new SeriesTrainer.Settings(8, 3, 3, 1.0)).train(series, 120, 0, null);
        return m;
    }

    @Test
    void shouldAllocateNothingPerStep() {
        LstmModel model = LstmModel.init(new LstmShape(1, 32, 1, 1), 3);
        LstmStepper stepper = new LstmStepper(model);
        double[] x = {0.5};
        double[] state = new double[model.shape().stateSize()];
        double[] out = new double[1];
        com.sun.management.ThreadMXBean mx =
                (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        for (int i = 0; i < 20_000; i++) {
            stepper.step(x, 0, state, 0, out, 0); // warm up and compile
        }
        long before = mx.getCurrentThreadAllocatedBytes();
        for (int i = 0; i < 100_000; i++) {
            x[0] = Math.sin(i * 0.01);
            stepper.step(x, 0, state, 0, out, 0);
        }
        long allocated = mx.getCurrentThreadAllocatedBytes() - before;
        assertTrue(allocated < 10_000, "100k steps allocated " + allocated + " bytes");
        assertTrue(Double.isFinite(out[0]));
    }
}
