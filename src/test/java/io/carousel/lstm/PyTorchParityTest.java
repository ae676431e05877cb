package io.carousel.lstm;

import static io.carousel.lstm.Fixtures.flat;
import static io.carousel.lstm.Fixtures.maxRelError;
import static io.carousel.lstm.Fixtures.meta;
import static io.carousel.lstm.Fixtures.metaDouble;
import static io.carousel.lstm.Fixtures.values;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Carousel against PyTorch 1.13 on fixtures from src/test/python/make_fixtures.py: forward outputs
 * and final states, the loss (MSE, and Huber for fwd_bwd_huber), every parameter gradient and the
 * initial-state gradients, and weights after 50 optimizer steps of Adam and SGD with clipping.
 */
class PyTorchParityTest {

    /** Float64 on both sides: the only differences are summation order. */
    private static final double F64_TOL = 1e-9;

    @ParameterizedTest
    @ValueSource(strings = {"fwd_bwd_l1", "fwd_bwd_l2", "fwd_bwd_l1_h32", "fwd_bwd_huber"})
    void shouldMatchPyTorchForwardAndGradients(String name) {
        Safetensors.Contents c = Fixtures.load(name);
        LstmModel model = Fixtures.initModel(name, c);
        LstmShape s = model.shape();
        int b = meta(c, "batch");
        int t = meta(c, "seq_len");
        int stateLen = s.layers() * b * s.hiddenSize();
        double[] out = new double[b * t * s.outputSize()];
        double[] hn = new double[stateLen];
        double[] cn = new double[stateLen];
        boolean huber = "huber".equals(c.metadata().get("loss"));
        assertEquals(name.endsWith("huber"), huber, "the fixture says its loss");
        LstmBptt bptt = new LstmBptt(model, huber ? Loss.HUBER : Loss.MSE);
        bptt.forward(values(c, "x"), b, t, values(c, "h0"), values(c, "c0"), out, hn, cn);
        assertTrue(maxRelError(out, values(c, "out"), 1e-3) < F64_TOL, "out");
        assertTrue(maxRelError(hn, values(c, "hn"), 1e-3) < F64_TOL, "hn");
        assertTrue(maxRelError(cn, values(c, "cn"), 1e-3) < F64_TOL, "cn");

        double[] grad = new double[model.parameterCount()];
        double[] gh0 = new double[stateLen];
        double[] gc0 = new double[stateLen];
        double loss = bptt.forwardBackward(values(c, "x"), values(c, "y"), b, t, false,
                values(c, "h0"), values(c, "c0"), grad, gh0, gc0);
        assertEquals(values(c, "loss")[0], loss, 1e-12 * Math.abs(loss));
        for (ParamLayout.Tensor p : model.layout().tensors()) {
            double[] mine = java.util.Arrays.copyOfRange(grad, p.offset(), p.offset() + p.size());
            double err = maxRelError(mine, values(c, "grad." + p.name()), 1e-6);
            assertTrue(err < F64_TOL, "grad." + p.name() + " relative error " + err);
        }
        assertTrue(maxRelError(gh0, values(c, "grad.h0"), 1e-6) < F64_TOL, "grad.h0");
        assertTrue(maxRelError(gc0, values(c, "grad.c0"), 1e-6) < F64_TOL, "grad.c0");
    }

    @Test
    void shouldMatchFloat32PyTorchForwardToOneInAHundredThousand() {
        Safetensors.Contents c = Fixtures.load("fwd_f32");
        LstmModel model = Fixtures.initModel("fwd_f32", c);
        LstmShape s = model.shape();
        int b = meta(c, "batch");
        int t = meta(c, "seq_len");
        double[] out = new double[b * t * s.outputSize()];
        double[] hn = new double[s.layers() * b * s.hiddenSize()];
        new LstmBptt(model).forward(values(c, "x"), b, t, values(c, "h0"), values(c, "c0"), out, hn, null);
        // PyTorch computed in float32: 1e-5 relative, with values near zero compared absolutely
        assertTrue(maxRelError(out, values(c, "out"), 1e-2) < 1e-5, "out");
        assertTrue(maxRelError(hn, values(c, "hn"), 1e-2) < 1e-5, "hn");
    }

    @ParameterizedTest
    @ValueSource(strings = {"train_adam", "train_sgd"})
    void shouldMatchPyTorchWeightsAfterFiftyClippedSteps(String name) {
        Safetensors.Contents c = Fixtures.load(name);
        LstmModel model = Fixtures.initModel(name, c);
        double lr = metaDouble(c, "lr");
        double wd = metaDouble(c, "weight_decay");
        Optimizer opt = c.metadata().get("optimizer").equals("adam")
                ? Optimizer.adam(model.parameterCount(), lr, 0.9, 0.999, metaDouble(c, "eps"), wd)
                : Optimizer.sgd(model.parameterCount(), lr, metaDouble(c, "momentum"), wd);
        SeriesTrainer.Settings settings = new SeriesTrainer.Settings(
                meta(c, "train_seq_len"), meta(c, "train_batch"), Integer.MAX_VALUE, metaDouble(c, "clip"));
        double[] series = values(c, "series");
        int rows = meta(c, "series_len");
        double[] losses = values(c, "losses");
        int[] clipped = {0};
        new SeriesTrainer(model, opt, settings).train(series, rows, meta(c, "steps"), (step, epoch, loss, norm) -> {
            double expected = losses[(int) step - 1];
            assertEquals(expected, loss, 1e-9 * Math.abs(expected), "loss of step " + step);
            if (metaDouble(c, "clip") / (norm + 1e-6) < 1) {
                clipped[0]++;
            }
        });
        assertEquals(meta(c, "steps"), opt.steps());
        assertEquals(meta(c, "clipped_steps"), clipped[0], "steps that clipped");
        double err = maxRelError(model.params(), flat(c, model.layout(), "final."), 1e-3);
        assertTrue(err < 1e-4, "weights after 50 steps: relative error " + err);
    }

    @Test
    void shouldRunAModelThatPyTorchWrote() {
        LstmModel model = Safetensors.read(Fixtures.DIR.resolve("torch_written.safetensors"));
        Safetensors.Contents io = Fixtures.load("torch_written_io");
        assertTrue(maxRelError(stepAll(model, values(io, "x")), values(io, "out"), 1e-3) < F64_TOL);
    }

    @Test
    void shouldBeRunByPyTorchFromAFileCarouselWrote() throws Exception {
        // carousel_written.safetensors is written by Carousel (LstmModel.init, seed 7, F32); the
        // fixture script loaded it into torch.nn.LSTM and recorded the outputs
        Path written = Fixtures.DIR.resolve("carousel_written.safetensors");
        LstmModel model = Safetensors.read(written);
        LstmModel regenerated = LstmModel.init(model.shape(), 7);
        regenerated.roundToFloat();
        assertEquals(regenerated, model, "the committed file is what Carousel writes for seed 7");
        Path again = Files.createTempFile("carousel", ".safetensors");
        Safetensors.write(again, LstmModel.init(model.shape(), 7), false);
        assertEquals(-1, Files.mismatch(written, again), "Carousel writes the same bytes today");
        Files.delete(again);
        Safetensors.Contents io = Fixtures.load("carousel_written_io");
        assertTrue(maxRelError(stepAll(model, values(io, "x")), values(io, "out"), 1e-3) < F64_TOL);
    }

    /** Runs rows [T][D] through the stream's single-step path from zero state. */
    static double[] stepAll(LstmModel model, double[] x) {
        LstmShape s = model.shape();
        int steps = x.length / s.inputSize();
        LstmStepper stepper = new LstmStepper(model);
        double[] state = new double[s.stateSize()];
        double[] out = new double[steps * s.outputSize()];
        for (int t = 0; t < steps; t++) {
            stepper.step(x, t * s.inputSize(), state, 0, out, t * s.outputSize());
        }
        return out;
    }
}
