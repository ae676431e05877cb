package io.carousel.bench;

import io.carousel.lstm.LstmBptt;
import io.carousel.lstm.LstmModel;
import io.carousel.lstm.LstmShape;
import io.carousel.lstm.Optimizer;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Training throughput: one mini-batch of B sequences of L steps through {@link LstmBptt} (forward,
 * MSE loss over every step, backward through time) and one Adam step, as PyTorch's nn.LSTM +
 * nn.Linear + MSELoss + Adam. Reported in time steps per second, a time step being one sequence
 * element of one batch row (B * L per batch): JMH's ops/s with {@code OperationsPerInvocation}.
 *
 * <pre>mvn -Pbench test-compile exec:exec -Dbench=LstmTrainBench</pre>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class LstmTrainBench {

    static final int BATCH = 32;
    static final int STEPS = 64;

    @Param({"32"})
    public int hidden;

    @Param({"1"})
    public int input;

    private LstmModel model;
    private LstmBptt bptt;
    private Optimizer adam;
    private double[] x;
    private double[] y;
    private double[] grad;

    @Setup
    public void setup() {
        model = LstmModel.init(new LstmShape(input, hidden, 1, 1), 7);
        bptt = new LstmBptt(model);
        adam = Optimizer.adam(model.parameterCount(), 0.005);
        grad = new double[model.parameterCount()];
        // B windows of a noisy sine, target = next value (as SeriesTrainer cuts them)
        x = new double[BATCH * STEPS * input];
        y = new double[BATCH * STEPS];
        for (int b = 0; b < BATCH; b++) {
            for (int t = 0; t < STEPS; t++) {
                int i = b * 8 + t;
                for (int k = 0; k < input; k++) {
                    x[(b * STEPS + t) * input + k] = series(i, k);
                }
                y[b * STEPS + t] = series(i + 1, 0);
            }
        }
    }

    private static double series(int i, int k) {
        return Math.sin(2 * Math.PI * i / 48.0 + k) + 0.1 * Math.sin(i * 1.7);
    }

    @Benchmark
    @OperationsPerInvocation(BATCH * STEPS)
    public double trainBatch() {
        double loss = bptt.forwardBackward(x, y, BATCH, STEPS, false, null, null, grad, null, null);
        adam.step(model.params(), grad);
        return loss;
    }
}
