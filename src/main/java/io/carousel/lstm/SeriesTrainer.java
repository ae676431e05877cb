package io.carousel.lstm;

/**
 * The reference training mode over one multivariate series (the {@code model train} command, and
 * the retraining of a key's model). The target of step t is the first O columns of row t+1. Rows
 * are cut into consecutive non-overlapping windows of L inputs (window k covers inputs kL..kL+L-1
 * and targets kL+1..kL+L; a last window without L full targets is dropped); each window starts
 * from zero state; B consecutive windows form a batch (the last batch may hold fewer); one
 * optimizer step per batch; epochs repeat the same batches in the same order. Deterministic.
 */
public final class SeriesTrainer {

    /**
     * How to train; {@code clip <= 0} means no clipping. {@code stride} is the distance between
     * window starts: {@code seqLen} (the reference mode) cuts non-overlapping windows; a smaller
     * stride gives overlapping ones, so a short history still yields many windows. {@code loss}
     * is what the optimizer minimises (MSE unless said).
     */
    public record Settings(int seqLen, int batch, int epochs, double clip, int stride, Loss loss) {
        public Settings(int seqLen, int batch, int epochs, double clip) {
            this(seqLen, batch, epochs, clip, seqLen);
        }

        public Settings(int seqLen, int batch, int epochs, double clip, int stride) {
            this(seqLen, batch, epochs, clip, stride, Loss.MSE);
        }

        public Settings {
            if (stride < 1) {
                throw new IllegalArgumentException("stride must be at least 1, got " + stride);
            }
            if (seqLen < 1) {
                throw new IllegalArgumentException("sequence length must be at least 1, got " + seqLen);
            }
            if (batch < 1) {
                throw new IllegalArgumentException("batch must be at least 1, got " + batch);
            }
            if (epochs < 0) {
                throw new IllegalArgumentException("epochs must be at least 0, got " + epochs);
            }
        }
    }

    /** Called after every optimizer step with the step number (from 1) and the batch's loss. */
    public interface Listener {
        void onStep(long step, int epoch, double loss, double gradNorm);
    }

    private final LstmModel model;
    private final Optimizer optimizer;
    private final Settings settings;
    private final LstmBptt bptt;
    private final double[] grad;
    private double[] x = new double[0];
    private double[] y = new double[0];

    public SeriesTrainer(LstmModel model, Optimizer optimizer, Settings settings) {
        this.model = model;
        this.optimizer = optimizer;
        this.settings = settings;
        this.bptt = new LstmBptt(model, settings.loss());
        this.grad = new double[model.parameterCount()];
    }

    /** Non-overlapping windows of {@code seqLen} inputs with full targets in a series of {@code rows} rows. */
    public static int windows(int rows, int seqLen) {
        return windows(rows, seqLen, seqLen);
    }

    /** Windows of {@code seqLen} inputs with full targets, starting every {@code stride} rows. */
    public static int windows(int rows, int seqLen, int stride) {
        return rows - 1 < seqLen ? 0 : (rows - 1 - seqLen) / stride + 1;
    }

    private static int[] windowStarts(int[] ends, int seqLen, int stride) {
        int n = 0;
        int from = 0;
        for (int end : ends) {
            n += windows(end - from, seqLen, stride);
            from = end;
        }
        int[] starts = new int[n];
        int k = 0;
        from = 0;
        for (int end : ends) {
            for (int w = windows(end - from, seqLen, stride) - 1, i = 0; i <= w; i++) {
                starts[k++] = from + i * stride;
            }
            from = end;
        }
        return starts;
    }

    /**
     * Trains in place on {@code series} [rows][D] (row-major), for the configured epochs, or until
     * {@code maxSteps} optimizer steps (0 = no limit).
     *
     * @return the mean batch loss of the last epoch (NaN when there was no full window)
     */
    public double train(double[] series, int rows, long maxSteps, Listener listener) {
        return train(series, new int[] {rows}, maxSteps, listener);
    }

    /**
     * Trains on several series stacked in one array (a group's keys, each its own sequence):
     * segment i is rows [ends[i-1], ends[i]); windows never cross a segment's end.
     */
    public double train(double[] series, int[] ends, long maxSteps, Listener listener) {
        int rows = ends.length == 0 ? 0 : ends[ends.length - 1];
        LstmShape shape = model.shape();
        int d = shape.inputSize();
        if (series.length < (long) rows * d) {
            throw new IllegalArgumentException("series has " + series.length + " values, expected " + rows + " x " + d);
        }
        if (shape.outputSize() > d) {
            throw new IllegalArgumentException("output size " + shape.outputSize()
                    + " exceeds the series' " + d + " columns: targets are the first O columns of the next row");
        }
        int seqLen = settings.seqLen();
        int[] starts = windowStarts(ends, seqLen, settings.stride());
        int nWin = starts.length;
        double last = Double.NaN;
        if (nWin == 0) {
            return last;
        }
        int o = shape.outputSize();
        int maxB = Math.min(settings.batch(), nWin);
        if (x.length < maxB * seqLen * d) {
            x = new double[maxB * seqLen * d];
            y = new double[maxB * seqLen * o];
        }
        for (int epoch = 0; epoch < settings.epochs(); epoch++) {
            double sum = 0;
            int batches = 0;
            for (int w0 = 0; w0 < nWin; w0 += settings.batch()) {
                int b = Math.min(settings.batch(), nWin - w0);
                for (int i = 0; i < b; i++) {
                    int start = starts[w0 + i];
                    System.arraycopy(series, start * d, x, i * seqLen * d, seqLen * d);
                    for (int t = 0; t < seqLen; t++) {
                        System.arraycopy(series, (start + t + 1) * d, y, (i * seqLen + t) * o, o);
                    }
                }
                double loss = bptt.forwardBackward(x, y, b, seqLen, false, null, null, grad, null, null);
                double norm = settings.clip() > 0 ? Optimizer.clipGradNorm(grad, settings.clip()) : Double.NaN;
                optimizer.step(model.params(), grad);
                sum += loss;
                batches++;
                if (listener != null) {
                    listener.onStep(optimizer.steps(), epoch, loss, norm);
                }
                if (maxSteps > 0 && optimizer.steps() >= maxSteps) {
                    return sum / batches;
                }
            }
            last = sum / batches;
        }
        return last;
    }
}
