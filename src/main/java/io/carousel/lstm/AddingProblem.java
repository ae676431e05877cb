package io.carousel.lstm;

import java.util.SplittableRandom;

/**
 * The adding problem (Hochreiter and Schmidhuber 1997, experiment 4, in the form later papers use):
 * a sequence of T (value, marker) pairs, values uniform in [0, 1], exactly two markers set to 1,
 * one in the first half and one in the second; the target, scored on the final step only, is the
 * sum of the two marked values. Predicting the mean (1) scores the target's variance, 1/6: a
 * network that cannot carry the first marked value across up to T steps stays there.
 */
public final class AddingProblem {

    /** The target's variance: the MSE of the best constant prediction. */
    public static final double BASELINE_MSE = 1.0 / 6.0;

    /** Which recurrent cell to train. */
    public enum Cell { LSTM, RNN }

    /** The experiment's knobs; defaults come from {@link #defaults(int)}. */
    public record Settings(int steps, int hidden, int batch, double lr, double clip, long sequences,
                           int testSize, int checkpoints) {
        public Settings {
            if (steps < 2) {
                throw new IllegalArgumentException("steps T must be at least 2, got " + steps);
            }
            if (hidden < 1 || batch < 1 || testSize < 1 || checkpoints < 1 || sequences < batch) {
                throw new IllegalArgumentException("hidden, batch, test size and checkpoints must be positive"
                        + " and the sequence budget at least one batch");
            }
        }
    }

    /** A budget that reaches MSE < 0.01 at T = 100 with an LSTM of 32 units. */
    public static Settings defaults(int steps) {
        return new Settings(steps, 32, 32, 0.005, 1.0, 120_000, 1000, 20);
    }

    /** Receives the test MSE at each checkpoint. */
    public interface Listener {
        void onCheckpoint(long sequencesSeen, double trainMse, double testMse);
    }

    private AddingProblem() {}

    /** Fills x [B][T][2] and y [B][T][1] (only the final step's target is used). */
    static void sample(SplittableRandom r, int batch, int steps, double[] x, double[] y) {
        java.util.Arrays.fill(x, 0, batch * steps * 2, 0.0);
        int half = steps / 2;
        for (int b = 0; b < batch; b++) {
            int base = b * steps;
            for (int t = 0; t < steps; t++) {
                x[(base + t) * 2] = r.nextDouble();
                y[base + t] = 0;
            }
            int first = r.nextInt(half);
            int second = half + r.nextInt(steps - half);
            x[(base + first) * 2 + 1] = 1;
            x[(base + second) * 2 + 1] = 1;
            y[base + steps - 1] = x[(base + first) * 2] + x[(base + second) * 2];
        }
    }

    /** Trains the chosen cell with Adam and the project's BPTT; returns the final test MSE. */
    public static double run(Cell cell, Settings s, long seed, Listener listener) {
        LstmShape shape = new LstmShape(2, s.hidden(), 1, 1);
        SequenceNet net = cell == Cell.LSTM
                ? SequenceNet.of(new LstmBptt(LstmModel.init(shape, seed)))
                : new RnnBptt(shape, seed);
        double[] grad = new double[net.params().length];
        Optimizer adam = Optimizer.adam(grad.length, s.lr());
        int t = s.steps();
        double[] x = new double[s.batch() * t * 2];
        double[] y = new double[s.batch() * t];
        double[] testX = new double[s.testSize() * t * 2];
        double[] testY = new double[s.testSize() * t];
        double[] out = new double[s.testSize() * t];
        sample(new SplittableRandom(seed ^ 0x5DEECE66DL), s.testSize(), t, testX, testY);
        SplittableRandom train = new SplittableRandom(seed + 1);
        long batches = s.sequences() / s.batch();
        long every = Math.max(1, batches / s.checkpoints());
        double trainSum = 0;
        int trainCount = 0;
        double test = Double.NaN;
        for (long i = 1; i <= batches; i++) {
            sample(train, s.batch(), t, x, y);
            trainSum += net.forwardBackward(x, y, s.batch(), t, true, grad);
            trainCount++;
            if (s.clip() > 0) {
                Optimizer.clipGradNorm(grad, s.clip());
            }
            adam.step(net.params(), grad);
            if (i % every == 0 || i == batches) {
                test = testMse(net, testX, testY, out, s.testSize(), t);
                if (listener != null) {
                    listener.onCheckpoint(i * s.batch(), trainSum / trainCount, test);
                }
                trainSum = 0;
                trainCount = 0;
            }
        }
        return test;
    }

    private static double testMse(SequenceNet net, double[] x, double[] y, double[] out, int n, int t) {
        net.forward(x, n, t, out);
        double sum = 0;
        for (int b = 0; b < n; b++) {
            double d = out[b * t + t - 1] - y[b * t + t - 1];
            sum += d * d;
        }
        return sum / n;
    }
}
