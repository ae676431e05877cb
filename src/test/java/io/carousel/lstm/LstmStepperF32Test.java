package io.carousel.lstm;

import static io.carousel.lstm.Fixtures.maxRelError;
import static io.carousel.lstm.Fixtures.meta;
import static io.carousel.lstm.Fixtures.values;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/**
 * The float32 inference step the stream serves with, against PyTorch's float32 LSTM (fixtures of
 * src/test/python/make_fixtures.py) and against the double stepper over a long stream.
 */
class LstmStepperF32Test {

    /** Runs every sequence of a fixture's batch through the stepper from its h0 and c0. */
    @ParameterizedTest
    @ValueSource(strings = {"fwd_f32", "fwd_f32_h32"})
    void shouldMatchPyTorchFloat32Forward(String name) {
        Safetensors.Contents c = Fixtures.load(name);
        LstmModel model = Fixtures.initModel(name, c);
        LstmShape s = model.shape();
        int b = meta(c, "batch");
        int t = meta(c, "seq_len");
        int layers = s.layers();
        int h = s.hiddenSize();
        int d = s.inputSize();
        int o = s.outputSize();
        double[] x = values(c, "x");
        double[] h0 = values(c, "h0");
        double[] c0 = values(c, "c0");
        double[] out = new double[b * t * o];
        double[] hn = new double[layers * b * h];
        double[] cn = new double[layers * b * h];
        LstmStepperF32 stepper = new LstmStepperF32(model);
        float[] state = new float[s.stateSize()];
        for (int seq = 0; seq < b; seq++) {
            // [L, B, H] -> h of every layer, then c of every layer
            for (int l = 0; l < layers; l++) {
                for (int j = 0; j < h; j++) {
                    state[l * h + j] = (float) h0[(l * b + seq) * h + j];
                    state[(layers + l) * h + j] = (float) c0[(l * b + seq) * h + j];
                }
            }
            for (int step = 0; step < t; step++) {
                stepper.step(x, (seq * t + step) * d, state, 0, out, (seq * t + step) * o);
            }
            for (int l = 0; l < layers; l++) {
                for (int j = 0; j < h; j++) {
                    hn[(l * b + seq) * h + j] = state[l * h + j];
                    cn[(l * b + seq) * h + j] = state[(layers + l) * h + j];
                }
            }
        }
        // both sides round to float32 at every operation, in different orders: a few float ulps a
        // step, which the LSTM's gates damp instead of compounding over the 500 steps of fwd_f32_h32
        double outErr = maxRelError(out, values(c, "out"), 1e-2);
        double hnErr = maxRelError(hn, values(c, "hn"), 1e-2);
        double cnErr = maxRelError(cn, values(c, "cn"), 1e-2);
        assertTrue(outErr < 1e-5, "out: relative error " + outErr);
        assertTrue(hnErr < 1e-5, "hn: relative error " + hnErr);
        assertTrue(cnErr < 1e-5, "cn: relative error " + cnErr);
    }

    /**
     * Two layers, H = 32, 20,000 steps of a noisy sine from zero state, against the double stepper.
     * How far float arithmetic drifts depends on how sensitive the model's state is to its last bits:
     * at PyTorch's initial scale the outputs agree to 2.6e-7 (bound 1e-6); with every weight four
     * times larger, gates saturate and the state amplifies small differences (the double stepper fed
     * float-rounded inputs moves by 3.7e-6 itself) and they agree to 5.1e-5 (bound 1e-4). The final
     * h and c, floats on one side, agree to 1.4e-6 and 2.1e-6 (bound 1e-5).
     */
    @ParameterizedTest
    @CsvSource({"1, 1e-6", "4, 1e-4"})
    void shouldStayWithinFloatPrecisionOfTheDoubleStepperOverALongStream(double weightScale, double bound) {
        LstmModel model = LstmModel.init(new LstmShape(3, 32, 2, 2), 11);
        double[] p = model.params();
        for (int i = 0; i < p.length; i++) {
            p[i] = (float) (p[i] * weightScale); // float weights, which both steppers then read exactly
        }
        LstmStepper reference = new LstmStepper(model);
        LstmStepperF32 stepper = new LstmStepperF32(model);
        int n = 20_000;
        SplittableRandom r = new SplittableRandom(7);
        double[] x = new double[3];
        double[] state = new double[model.shape().stateSize()];
        float[] stateF32 = new float[state.length];
        double[] out = new double[2];
        double[] outF32 = new double[2];
        double worst = 0;
        for (int t = 0; t < n; t++) {
            x[0] = Math.sin(t / 9.0) * 2 + r.nextGaussian() * 0.3;
            x[1] = r.nextGaussian();
            x[2] = t % 24 / 12.0 - 1;
            reference.step(x, 0, state, 0, out, 0);
            stepper.step(x, 0, stateF32, 0, outF32, 0);
            for (int j = 0; j < 2; j++) {
                worst = Math.max(worst, Math.abs(out[j] - outF32[j]) / Math.max(Math.abs(out[j]), 1e-2));
            }
        }
        double stateErr = 0;
        for (int i = 0; i < state.length; i++) {
            stateErr = Math.max(stateErr, Math.abs(state[i] - stateF32[i]) / Math.max(Math.abs(state[i]), 1e-2));
        }
        assertTrue(worst < bound, "outputs: worst relative error " + worst);
        assertTrue(stateErr < 1e-5, "h and c after " + n + " steps: worst relative error " + stateErr);
    }

    @Test
    void shouldCarryNaNInputIntoNaNOutputNotAnException() {
        LstmModel model = LstmModel.init(new LstmShape(1, 8, 1, 1), 3);
        LstmStepperF32 stepper = new LstmStepperF32(model);
        float[] state = new float[model.shape().stateSize()];
        double[] out = new double[1];
        stepper.step(new double[] {Double.NaN}, 0, state, 0, out, 0);
        assertTrue(Double.isNaN(out[0]), "NaN in, NaN out: " + out[0]);
    }
}
