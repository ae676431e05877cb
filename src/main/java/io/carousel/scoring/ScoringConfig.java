package io.carousel.scoring;

/**
 * Settings of the anomaly scorer. Immutable and validated when built: a bad value fails here,
 * with a message naming the argument, and never reaches the stream.
 *
 * <p>All windows are exponential half-lives counted in events (not time), so the scorer needs no
 * clock and works the same on 1-second and 1-hour series. Defaults, and why:
 * <ul>
 *   <li>{@code warmupEvents = 300}: the first quarter (75 events) learns only the error scale
 *       (a mean absolute error from 75 samples is within about 9 %); the remaining 225 give the
 *       long-run statistics about 20 independent looks at the short-window mean (its
 *       autocorrelation time is about 10 events). Numenta's detector waits 388 events.</li>
 *   <li>{@code shortHalfLife = 3.5}: the same centre of mass as Numenta's 10-event moving average
 *       of recent surprises; long enough to average out single noisy events, short enough that an
 *       isolated error of 7 sigma after a calm stretch crosses the default threshold about half
 *       the time on its own, and one of 9 sigma almost always (measured).</li>
 *   <li>{@code scaleHalfLife = 50}: the error scale must outlast the short window (the window moves
 *       it by under 7 %, so a burst is judged against the scale from before it), be a stable
 *       estimate (about 150 effective samples, 6 % error), and still follow slow changes of noise
 *       level such as day and night. It is also the forecast interval's memory.</li>
 *   <li>{@code longHalfLife = 3000}: the same centre of mass as Numenta's 8640-event history
 *       window; the "normal" distribution of the short-window mean is learned over it.</li>
 *   <li>{@code threshold = 0.9999}: the score is a calibrated likelihood, so 1 - threshold is the
 *       expected fraction of ordinary events flagged: one in 10,000 (a 5-minute series raises a
 *       false alarm about once a month). Numenta's NAB threshold is stricter still (0.99999 on
 *       this scale) because its likelihood is not tail-guarded.</li>
 *   <li>{@code intervalCoverage = 0.95}: the usual forecast interval; z = 1.96.</li>
 * </ul>
 */
public record ScoringConfig(
        int warmupEvents,
        double shortHalfLife,
        double scaleHalfLife,
        double longHalfLife,
        double threshold,
        double intervalCoverage) {

    public static final int DEFAULT_WARMUP_EVENTS = 300;
    public static final double DEFAULT_SHORT_HALF_LIFE = 3.5;
    public static final double DEFAULT_SCALE_HALF_LIFE = 50;
    public static final double DEFAULT_LONG_HALF_LIFE = 3000;
    public static final double DEFAULT_THRESHOLD = 0.9999;
    public static final double DEFAULT_INTERVAL_COVERAGE = 0.95;

    /** Fewer events could not split into a scale-learning and a likelihood-learning part. */
    public static final int MIN_WARMUP_EVENTS = 8;

    public ScoringConfig {
        if (warmupEvents < MIN_WARMUP_EVENTS) {
            throw new IllegalArgumentException(
                    "warmupEvents must be >= " + MIN_WARMUP_EVENTS + ", got " + warmupEvents);
        }
        requireHalfLife("shortHalfLife", shortHalfLife);
        requireHalfLife("scaleHalfLife", scaleHalfLife);
        requireHalfLife("longHalfLife", longHalfLife);
        if (!(shortHalfLife < scaleHalfLife)) {
            throw new IllegalArgumentException("shortHalfLife (" + shortHalfLife
                    + ") must be < scaleHalfLife (" + scaleHalfLife
                    + "): a burst must be judged against the scale from before it");
        }
        if (!(shortHalfLife < longHalfLife)) {
            throw new IllegalArgumentException("shortHalfLife (" + shortHalfLife
                    + ") must be < longHalfLife (" + longHalfLife + ")");
        }
        requireOpenUnit("threshold", threshold);
        requireOpenUnit("intervalCoverage", intervalCoverage);
    }

    public static ScoringConfig defaults() {
        return new ScoringConfig(DEFAULT_WARMUP_EVENTS, DEFAULT_SHORT_HALF_LIFE,
                DEFAULT_SCALE_HALF_LIFE, DEFAULT_LONG_HALF_LIFE, DEFAULT_THRESHOLD,
                DEFAULT_INTERVAL_COVERAGE);
    }

    public ScoringConfig withWarmupEvents(int value) {
        return new ScoringConfig(value, shortHalfLife, scaleHalfLife, longHalfLife, threshold,
                intervalCoverage);
    }

    public ScoringConfig withShortHalfLife(double value) {
        return new ScoringConfig(warmupEvents, value, scaleHalfLife, longHalfLife, threshold,
                intervalCoverage);
    }

    public ScoringConfig withScaleHalfLife(double value) {
        return new ScoringConfig(warmupEvents, shortHalfLife, value, longHalfLife, threshold,
                intervalCoverage);
    }

    public ScoringConfig withLongHalfLife(double value) {
        return new ScoringConfig(warmupEvents, shortHalfLife, scaleHalfLife, value, threshold,
                intervalCoverage);
    }

    public ScoringConfig withThreshold(double value) {
        return new ScoringConfig(warmupEvents, shortHalfLife, scaleHalfLife, longHalfLife, value,
                intervalCoverage);
    }

    public ScoringConfig withIntervalCoverage(double value) {
        return new ScoringConfig(warmupEvents, shortHalfLife, scaleHalfLife, longHalfLife,
                threshold, value);
    }

    /** Events at the start that only learn the error scale: a quarter of the warm-up. */
    public int scaleWarmupEvents() {
        return warmupEvents / 4;
    }

    /** Two-sided standard-normal quantile of the interval: 1.96 for 95 %. */
    public double intervalZ() {
        return Normal.quantile(0.5 + intervalCoverage / 2);
    }

    /** Per-event weight of an exponential average with this half-life: 1 - 2^(-1/h). */
    static double alpha(double halfLife) {
        return -Math.expm1(-Math.log(2) / halfLife);
    }

    private static void requireHalfLife(String name, double value) {
        // Below half an event the "average" is just the latest value; infinity never learns.
        if (!(value >= 0.5) || Double.isInfinite(value)) {
            throw new IllegalArgumentException(
                    name + " must be a finite number of events >= 0.5, got " + value);
        }
    }

    private static void requireOpenUnit(String name, double value) {
        if (!(value > 0 && value < 1)) {
            throw new IllegalArgumentException(name + " must be in (0, 1), got " + value);
        }
    }
}
