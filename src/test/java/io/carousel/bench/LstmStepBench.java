package io.carousel.bench;

import io.carousel.lstm.LstmModel;
import io.carousel.lstm.LstmShape;
import io.carousel.lstm.LstmStepper;
import io.carousel.lstm.LstmStepperF32;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One inference step of one key (1 layer, output size 1): through {@link LstmStepper} in double and
 * {@link LstmStepperF32} in float32, the stream's hot path: average time per call. Must allocate
 * nothing: run with {@code -prof gc} and read
 * {@code gc.alloc.rate.norm} (B/op).
 *
 * <pre>mvn -Pbench test-compile exec:exec -Dbench=LstmStepBench -Dbench.args="-prof gc"</pre>
 *
 * {@code src/test/python/bench_vs_torch.py} runs it next to PyTorch's LSTMCell on the same shapes.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class LstmStepBench {

    @Param({"16", "32", "64", "128"})
    public int hidden;

    @Param({"1", "8"})
    public int input;

    private LstmStepper stepper;
    private LstmStepperF32 stepperF32;
    private double[] x;
    private double[] state;
    private float[] stateF32;
    private double[] out;

    @Setup
    public void setup() {
        LstmModel model = LstmModel.init(new LstmShape(input, hidden, 1, 1), 7);
        stepper = new LstmStepper(model);
        stepperF32 = new LstmStepperF32(model);
        // a few distinct inputs, cycled, so the state keeps moving as it does on a stream
        SplittableRandom r = new SplittableRandom(11);
        x = new double[64 * input];
        for (int i = 0; i < x.length; i++) {
            x[i] = r.nextDouble() * 2 - 1;
        }
        state = new double[model.shape().stateSize()];
        stateF32 = new float[model.shape().stateSize()];
        out = new double[1];
    }

    private int cursor;

    @Benchmark
    public double step() {
        int k = cursor;
        cursor = (k + 1) & 63;
        stepper.step(x, k * input, state, 0, out, 0);
        return out[0];
    }

    /** The same step in float32 ({@link LstmStepperF32}, what the stream serves with). */
    @Benchmark
    public double stepF32() {
        int k = cursor;
        cursor = (k + 1) & 63;
        stepperF32.step(x, k * input, stateF32, 0, out, 0);
        return out[0];
    }

    /**
     * What the 5H exponentials of one step (four gates and tanh(c) per hidden unit) would cost as
     * calls of {@link Math#exp}, alone: the floor under {@link #step()} before the kernels computed
     * them as vectors ({@code Kernels.expNeg}), kept for comparison.
     */
    @State(Scope.Thread)
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.NANOSECONDS)
    @Fork(1)
    @Warmup(iterations = 3, time = 1)
    @Measurement(iterations = 5, time = 1)
    public static class Exps {

        @Param({"16", "32", "64", "128"})
        public int hidden;

        private double[] pre;
        private double[] e;

        @Setup
        public void setup() {
            SplittableRandom r = new SplittableRandom(13);
            pre = new double[5 * hidden];
            for (int i = 0; i < pre.length; i++) {
                pre[i] = r.nextDouble() * 6 - 3;
            }
            e = new double[pre.length];
        }

        @Benchmark
        public double exps() {
            double[] p = pre;
            for (int j = 0; j < p.length; j++) {
                e[j] = Math.exp(-p[j]);
            }
            return e[p.length - 1];
        }
    }
}
