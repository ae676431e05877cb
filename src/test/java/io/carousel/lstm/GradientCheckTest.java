package io.carousel.lstm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Every analytic gradient of BPTT against central differences of the loss, in double precision. */
class GradientCheckTest {

    private static final double H = 1e-5;
    private static final double TOL = 1e-6;

    @ParameterizedTest(name = "layers={0} lastStepOnly={1}")
    @CsvSource({"1,false", "2,false", "1,true", "2,true", "3,false"})
    void shouldMatchCentralDifferencesForEveryParameterAndInitialState(int layers, boolean lastStepOnly) {
        LstmShape shape = new LstmShape(3, 4, layers, 2);
        LstmModel model = LstmModel.init(shape, 11 + layers);
        int b = 3;
        int t = 5;
        SplittableRandom r = new SplittableRandom(5);
        double[] x = gaussian(r, b * t * 3);
        double[] y = gaussian(r, b * t * 2);
        double[] h0 = scaled(gaussian(r, layers * b * 4), 0.5);
        double[] c0 = scaled(gaussian(r, layers * b * 4), 0.5);
        LstmBptt bptt = new LstmBptt(model);
        double[] grad = new double[model.parameterCount()];
        double[] gh0 = new double[h0.length];
        double[] gc0 = new double[c0.length];
        bptt.forwardBackward(x, y, b, t, lastStepOnly, h0, c0, grad, gh0, gc0);

        double[] scratch = new double[grad.length];
        assertEveryTensor(model, grad, () -> bptt.forwardBackward(x, y, b, t, lastStepOnly, h0, c0, scratch, null, null));
        for (double[][] pair : new double[][][] {{h0, gh0}, {c0, gc0}}) {
            double worst = 0;
            for (int i = 0; i < pair[0].length; i++) {
                worst = Math.max(worst, relError(pair[1][i], numeric(pair[0], i,
                        () -> bptt.forwardBackward(x, y, b, t, lastStepOnly, h0, c0, scratch, null, null))));
            }
            assertTrue(worst < TOL, (pair[0] == h0 ? "h0" : "c0") + ": relative error " + worst);
        }
    }

    /**
     * The Huber loss: targets spread wider than the outputs, so that errors fall on both sides of the
     * bend at 1 (checked), and both branches of the loss reach every gradient.
     */
    @ParameterizedTest(name = "huber layers={0}")
    @CsvSource({"1", "2"})
    void shouldMatchCentralDifferencesWithTheHuberLoss(int layers) {
        LstmShape shape = new LstmShape(3, 4, layers, 2);
        LstmModel model = LstmModel.init(shape, 21 + layers);
        int b = 3;
        int t = 5;
        SplittableRandom r = new SplittableRandom(15);
        double[] x = gaussian(r, b * t * 3);
        double[] y = scaled(gaussian(r, b * t * 2), 1.5);
        LstmBptt bptt = new LstmBptt(model, Loss.HUBER);
        double[] out = new double[y.length];
        bptt.forward(x, b, t, null, null, out, null, null);
        int beyond = 0;
        double expected = 0;
        for (int i = 0; i < y.length; i++) {
            double d = Math.abs(out[i] - y[i]);
            beyond += d > Loss.HUBER_DELTA ? 1 : 0;
            expected += d <= 1 ? 0.5 * d * d : d - 0.5;
        }
        assertTrue(beyond >= 5 && beyond <= y.length - 5, beyond + " of " + y.length + " errors beyond the bend");
        double[] grad = new double[model.parameterCount()];
        double loss = bptt.forwardBackward(x, y, b, t, false, null, null, grad, null, null);
        assertEquals(expected / y.length, loss, 1e-12, "the mean Huber loss of the outputs");
        double[] scratch = new double[grad.length];
        assertEveryTensor(model, grad, () -> bptt.forwardBackward(x, y, b, t, false, null, null, scratch, null, null));
    }

    /** Every parameter's analytic gradient against the central difference of {@code loss}. */
    private static void assertEveryTensor(LstmModel model, double[] grad, java.util.function.DoubleSupplier loss) {
        double[] p = model.params();
        for (ParamLayout.Tensor tensor : model.layout().tensors()) {
            double worst = 0;
            for (int i = tensor.offset(); i < tensor.offset() + tensor.size(); i++) {
                worst = Math.max(worst, relError(grad[i], numeric(p, i, loss)));
            }
            assertTrue(worst < TOL, tensor.name() + ": relative error " + worst);
        }
    }

    @ParameterizedTest(name = "rnn lastStepOnly={0}")
    @CsvSource({"false", "true"})
    void shouldCheckTheControlRnnToo(boolean lastStepOnly) {
        RnnBptt rnn = new RnnBptt(new LstmShape(2, 5, 1, 1), 3);
        SplittableRandom r = new SplittableRandom(9);
        double[] x = gaussian(r, 2 * 6 * 2);
        double[] y = gaussian(r, 2 * 6);
        double[] grad = new double[rnn.params().length];
        rnn.forwardBackward(x, y, 2, 6, lastStepOnly, grad);
        double[] scratch = new double[grad.length];
        double worst = 0;
        for (int i = 0; i < grad.length; i++) {
            worst = Math.max(worst, relError(grad[i], numeric(rnn.params(), i,
                    () -> rnn.forwardBackward(x, y, 2, 6, lastStepOnly, scratch))));
        }
        assertTrue(worst < TOL, "rnn relative error " + worst);
    }

    private static double numeric(double[] v, int i, java.util.function.DoubleSupplier loss) {
        double keep = v[i];
        v[i] = keep + H;
        double plus = loss.getAsDouble();
        v[i] = keep - H;
        double minus = loss.getAsDouble();
        v[i] = keep;
        return (plus - minus) / (2 * H);
    }

    /** Relative error that does not blow up when both values are tiny (central differences' noise ~1e-11). */
    private static double relError(double analytic, double numeric) {
        return Math.abs(analytic - numeric) / Math.max(1e-4, Math.abs(analytic) + Math.abs(numeric));
    }

    static double[] gaussian(SplittableRandom r, int n) {
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            // Box-Muller: deterministic from the seeded generator
            v[i] = Math.sqrt(-2 * Math.log(1 - r.nextDouble())) * Math.cos(2 * Math.PI * r.nextDouble());
        }
        return v;
    }

    private static double[] scaled(double[] v, double k) {
        for (int i = 0; i < v.length; i++) {
            v[i] *= k;
        }
        return v;
    }
}
