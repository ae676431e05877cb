package io.carousel.streams;

import io.carousel.config.CarouselConfig;

/** When and how models retrain (the retrain.*, history.* and training.* settings), read once. */
public record RetrainSettings(int everyEvents, long intervalMs, boolean wallClock, boolean scratch, int epochs, int seqLen,
                       int batch, double lr, double clip, double maxRegression, int threads, boolean drift,
                       boolean excludeAnomalies, int historyMaxEvents, long historyRetentionMs, boolean synchronous,
                       io.carousel.lstm.Loss loss) {

    /** Fewest events a key needs in its history before it can train: two windows' worth. */
    int minEvents() {
        return Math.max(2 * seqLen + 2, 32);
    }

    static RetrainSettings from(CarouselConfig c, boolean synchronous) {
        return new RetrainSettings(c.retrainEveryEvents(), c.retrainInterval().toMillis(),
                c.retrainClock() == CarouselConfig.RetrainClock.WALL, c.retrainMode() == CarouselConfig.RetrainMode.SCRATCH,
                c.retrainEpochs(), c.retrainSeqLen(), c.retrainBatch(), c.retrainLr(), c.retrainClip(),
                c.retrainMaxRegression(), c.retrainThreads(), c.retrainDrift(), c.trainingExcludeAnomalies(),
                c.historyMaxEvents(), c.historyRetention().toMillis(), synchronous,
                c.trainingLoss());
    }
}
