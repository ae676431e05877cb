package io.carousel.scoring;

/**
 * Turns a key's stream of forecast errors into a calibrated anomaly likelihood in [0, 1], in the
 * manner of Numenta's anomaly likelihood (HTM {@code anomaly_likelihood.py}): a short moving
 * average of per-event surprises is compared with the long-run Gaussian of that average, and the
 * score is 1 - its upper tail probability. Stateless apart from its config, so one instance can
 * serve every key and thread; all per-key memory is the {@link ScoreState}. {@link #update}
 * allocates nothing.
 *
 * <p>Per event, with errors e_j = actual - forecast for features j = 0..d-1:
 * <ol>
 *   <li><b>Deviation</b> z_j = e_j / sigma_j, sigma_j = sqrt(pi/2) * (exponential mean of |e_j|
 *       over {@code scaleHalfLife}), taken from before this event. The mean absolute error is
 *       used, not the mean square, because one outlier moves it linearly rather than
 *       quadratically; sqrt(pi/2) makes it the standard deviation for Gaussian errors, so z and
 *       the forecast interval are in familiar sigma units. After the scale's warm-up each |e| is
 *       clipped at 5 sigma before it updates the scale: a Gaussian error exceeds that once in
 *       1.7 million events (no bias), an outlier cannot inflate the scale by more than 7 % and
 *       mask what follows, yet a real rise in noise is followed (half-way in 50 events). With
 *       mostly exact-zero errors (a staircase, a spike train) the scale decays towards 0 and
 *       every change saturates the surprise: the likelihood and the guard below then learn how
 *       often such saturated events recur.
 *       Everything is a ratio of errors to errors, so scores do not depend on the series' unit.</li>
 *   <li><b>Surprise</b> r: the two-sided tail p_j = P(|N(0,1)| >= |z_j|), combined over features
 *       by the Sidak minimum (p = 1 - (1 - min p_j)^d, so one deviating feature is enough and d
 *       quiet ones do not raise alarms), then turned back into a normal score r = -Phi^-1(p).
 *       With calibrated Gaussian errors r is exactly N(0, 1), so its moving average is exactly
 *       Gaussian and the Gaussian fit below holds by construction: averaging |z| instead (skewed)
 *       gave five times too many alarms at 1e-4 in our simulations. r is clamped to [-3, 10]:
 *       the top bounds one event's weight in the long-run statistics, the bottom stops perfectly
 *       predicted events (z = 0, r = -infinity) from dominating.</li>
 *   <li><b>Short window</b> a = exponential mean of r over {@code shortHalfLife}.</li>
 *   <li><b>Likelihood</b> Z = (a - m) / sqrt(v + 1e-4), where m and v are the exponential mean and
 *       variance of a over {@code longHalfLife}, taken before this event so that an anomaly does
 *       not vouch for itself. They start from a prior, what a calibrated forecaster gives
 *       (m = 0, v = alpha / (2 - alpha) for r ~ N(0,1)), worth 20 events, so the first Z values
 *       are not divided by a variance guessed from two samples. The floor (0.01 in r units)
 *       keeps a perfectly predicted series finite while making its first real error
 *       overwhelming. p = Q(Z), as Numenta, but only the upper tail counts: unusually small
 *       errors are not anomalies (the forecaster, not the scorer, is responsible for expecting a
 *       pattern that then fails to happen).</li>
 *   <li><b>Tail guard</b>, the one addition to Numenta. A Gaussian tail is far too light for
 *       intermittent error processes (a square wave, a nightly batch job, a load balancer's
 *       spikes): the same excursion recurring every day would be flagged every day. The state
 *       keeps, for levels L_k = 4 * 1.25^k (k = 0..7, 4 to 19), the rate at which Z crossed up
 *       through L_k, exponentially weighted over {@code longHalfLife}, and p is at least the
 *       key's own tail there: the rate of any level above Z (the tail is monotone), and from the
 *       highest level at or below Z its rate decayed as (L_k / Z)^4 up to the next level. Above
 *       the largest excursion the key has shown, only the Gaussian speaks, so a new maximum
 *       always counts. Crossings, not events above a level, are counted, so one long incident
 *       is one crossing; each adds 1 / 4300 (the long window's weight), which suppresses
 *       excursions of the same size for about one long half-life, while a daily one stays
 *       suppressed. Only warm keys count crossings: before that, Z is measured against
 *       statistics still being learned. The lowest level lies above the default threshold's
 *       Z (3.72): for a well-behaved key, whose excursions to 4 are far rarer than 1e-4, the
 *       guard is idle and the score is Numenta's.</li>
 *   <li><b>Score</b> 1 - p once warm, 0 during the warm-up. It is a probability: ordinary events
 *       sit near 0.5. Use {@link #logScore} for display.</li>
 * </ol>
 *
 * <p>Non-finite errors (NaN, infinities) are rejected as a whole event: {@link #update} returns
 * 0 and leaves the state untouched, so a bad reading cannot poison a key. Callers that want to
 * count or dead-letter such events check {@link #isAcceptable} first.
 */
public final class Scorer {

    static final double R_MAX = 10;
    static final double R_MIN = -3;
    static final double CLIP_SIGMAS = 5;
    static final double VAR_FLOOR = 1e-4;
    static final double DEVIATION_CAP = 1e6;
    static final int PRIOR_EVENTS = 20;
    static final double SIGMA_PER_MEAN_ABS = Math.sqrt(Math.PI / 2);
    static final double[] GUARD_LEVEL = new double[ScoreState.GUARD_LEVELS];

    static {
        for (int k = 0; k < GUARD_LEVEL.length; k++) {
            GUARD_LEVEL[k] = 4 * Math.pow(1.25, k);
        }
    }

    /** Feedback moves the key's threshold in decades of tail probability (see applyFeedback). */
    static final double FALSE_POSITIVE_STEP = 0.5;
    static final double TRUE_POSITIVE_STEP = 0.25;
    static final double MIN_OFFSET = -1;
    static final double MAX_OFFSET = 4;

    private final ScoringConfig config;
    private final double alphaShort;
    private final double alphaScale;
    private final double alphaLong;
    private final double intervalZ;
    private final int scaleWarmup;
    private final double priorVar;

    public Scorer(ScoringConfig config) {
        if (config == null) {
            throw new IllegalArgumentException("config must not be null");
        }
        this.config = config;
        this.alphaShort = ScoringConfig.alpha(config.shortHalfLife());
        this.alphaScale = ScoringConfig.alpha(config.scaleHalfLife());
        this.alphaLong = ScoringConfig.alpha(config.longHalfLife());
        this.intervalZ = config.intervalZ();
        this.scaleWarmup = config.scaleWarmupEvents();
        this.priorVar = alphaShort / (2 - alphaShort);
    }

    public ScoringConfig config() {
        return config;
    }

    /** True if every error is finite, i.e. {@link #update} would accept the event. */
    public static boolean isAcceptable(double[] errors) {
        for (double e : errors) {
            if (!Double.isFinite(e)) {
                return false;
            }
        }
        return true;
    }

    /**
     * Scores one event and updates the key's state in place.
     *
     * @param st     the key's state, modified unless the event is rejected
     * @param errors actual - forecast per feature, length {@code st.featureCount()}; not modified
     * @return the anomaly likelihood in [0, 1]; 0 during the warm-up and for a rejected event
     * @throws IllegalArgumentException if the number of errors is not the state's feature count
     */
    public double update(ScoreState st, double[] errors) {
        if (errors.length != st.featureCount()) {
            throw new IllegalArgumentException("errors has " + errors.length
                    + " features, the state has " + st.featureCount());
        }
        if (!isAcceptable(errors)) {
            return 0;
        }
        int n = st.events == Integer.MAX_VALUE ? st.events : st.events + 1;
        double pMin = 1;
        for (int j = 0; j < errors.length; j++) {
            pMin = Math.min(pMin, observe(st, j, errors[j], n));
        }
        return score(st, n, pMin);
    }

    /** {@link #update(ScoreState, double[])} for a single-feature key, without an array. */
    public double update(ScoreState st, double error) {
        if (st.featureCount() != 1) {
            throw new IllegalArgumentException(
                    "a single error was given, the state has " + st.featureCount() + " features");
        }
        if (!Double.isFinite(error)) {
            return 0;
        }
        int n = st.events == Integer.MAX_VALUE ? st.events : st.events + 1;
        return score(st, n, observe(st, 0, error, n));
    }

    /** Step 1: deviation of feature j against its scale, then the scale learns the error. */
    private double observe(ScoreState st, int j, double e, int n) {
        double sigma = SIGMA_PER_MEAN_ABS * st.scale[j];
        double z = sigma > 0 ? e / sigma : (e == 0 ? 0 : Math.copySign(DEVIATION_CAP, e));
        if (!(Math.abs(z) <= DEVIATION_CAP)) {
            z = Math.copySign(DEVIATION_CAP, e);
        }
        st.deviation[j] = z;
        double abs = Math.abs(e);
        // No clipping while the scale is still being learned, nor from a zero scale (it would
        // stay zero forever after a perfectly predicted stretch).
        if (n > scaleWarmup && sigma > 0) {
            abs = Math.min(abs, CLIP_SIGMAS * sigma);
        }
        st.scale[j] += Math.max(alphaScale, 1.0 / n) * (abs - st.scale[j]);
        return Normal.twoSidedTail(z);
    }

    /** Steps 2 to 6 from the event's smallest per-feature tail probability. */
    private double score(ScoreState st, int n, double pMin) {
        boolean wasWarm = st.events >= config.warmupEvents();
        st.events = n;
        if (n <= scaleWarmup) {
            st.flags = 0;
            return 0;
        }
        int d = st.featureCount();
        double p = d == 1 ? pMin : -Math.expm1(d * Math.log1p(-pMin));
        double r = p > 0 ? -Normal.quantile(p) : R_MAX;
        r = Math.max(R_MIN, Math.min(R_MAX, r));

        int m = n - scaleWarmup;
        if (m == 1) {
            // The prior (see the class comment): the short-window mean of N(0,1) surprises.
            st.shortMean = 0;
            st.longMean = 0;
            st.longVar = priorVar;
        }
        st.shortMean += alphaShort * (r - st.shortMean);
        double z = (st.shortMean - st.longMean) / Math.sqrt(st.longVar + VAR_FLOOR);
        double tail = Math.max(Normal.upperTail(z), guardTail(st, z));

        double w = Math.max(alphaLong, 1.0 / (m + PRIOR_EVENTS));
        double delta = st.shortMean - st.longMean;
        st.longMean += w * delta;
        st.longVar = (1 - w) * (st.longVar + w * delta * delta);
        if (wasWarm) {
            // Before, Z's excursions say more about the estimator than about the key.
            updateGuard(st, z, alphaLong);
        }

        double score = wasWarm ? Math.min(1, Math.max(0, 1 - tail)) : 0;
        boolean anomaly = wasWarm && score >= threshold(st);
        boolean wasAnomaly = (st.flags & ScoreState.FLAG_ANOMALY) != 0;
        st.flags = (byte) ((anomaly ? ScoreState.FLAG_ANOMALY : 0)
                | (anomaly && !wasAnomaly ? ScoreState.FLAG_ALERT_START : 0));
        return score;
    }

    /**
     * The key's own tail at Z. A level crossed at rate q makes every Z below it at least that
     * likely (the tail is monotone). Above the highest level at or below Z, the tail decays as
     * q * (L_k / Z)^4, but only up to the next level: above the largest excursion the key has
     * shown (its rate is 0), only the Gaussian fit speaks, so a new maximum always counts.
     */
    private static double guardTail(ScoreState st, double z) {
        double tail = 0;
        for (int k = GUARD_LEVEL.length - 1; k >= 0; k--) {
            double rate = st.guardRate[k];
            if (z >= GUARD_LEVEL[k]) {
                double ratio = GUARD_LEVEL[k] / z;
                double r2 = ratio * ratio;
                return Math.max(tail, rate * r2 * r2);
            }
            tail = Math.max(tail, rate);
        }
        return tail;
    }

    private static void updateGuard(ScoreState st, double z, double w) {
        int above = 0;
        for (int k = 0; k < GUARD_LEVEL.length; k++) {
            int bit = 1 << k;
            boolean up = z >= GUARD_LEVEL[k];
            boolean crossed = up && (st.guardAbove & bit) == 0;
            st.guardRate[k] += w * ((crossed ? 1 : 0) - st.guardRate[k]);
            above |= up ? bit : 0;
        }
        st.guardAbove = (byte) above;
    }

    /** True once the key has absorbed {@code warmupEvents} events: its next event is scored. */
    public boolean isWarm(ScoreState st) {
        return st.events >= config.warmupEvents();
    }

    /** Whether the last scored event reached the key's threshold. */
    public boolean isAnomaly(ScoreState st) {
        return (st.flags & ScoreState.FLAG_ANOMALY) != 0;
    }

    /** Whether the last event was an anomaly following a non-anomalous one: one alert per run. */
    public boolean startsAlert(ScoreState st) {
        return (st.flags & ScoreState.FLAG_ALERT_START) != 0;
    }

    /** Last error of feature j in units of its scale, signed; 0 before any error was seen. */
    public double deviation(ScoreState st, int feature) {
        return st.deviation[feature];
    }

    /** The feature with the largest |deviation| in the last event (the lowest index on ties). */
    public int mostDeviantFeature(ScoreState st) {
        int best = 0;
        for (int j = 1; j < st.deviation.length; j++) {
            if (Math.abs(st.deviation[j]) > Math.abs(st.deviation[best])) {
                best = j;
            }
        }
        return best;
    }

    /** Gaussian-equivalent standard deviation of feature j's recent forecast errors. */
    public double errorScale(ScoreState st, int feature) {
        return SIGMA_PER_MEAN_ABS * st.scale[feature];
    }

    /**
     * Half-width w of the interval for the next forecast of feature j: lower = forecast - w,
     * upper = forecast + w, covering {@code intervalCoverage} of errors if they are Gaussian.
     * 0 until the first error has been seen; trust it once {@link #isWarm}.
     */
    public double intervalHalfWidth(ScoreState st, int feature) {
        return intervalZ * errorScale(st, feature);
    }

    /** The key's threshold: the configured one moved by feedback. */
    public double threshold(ScoreState st) {
        if (st.thresholdOffset == 0) {
            return config.threshold();
        }
        return 1 - (1 - config.threshold()) * Math.pow(10, -st.thresholdOffset);
    }

    /**
     * User feedback on an alert of this key. A false positive makes the key's alerts rarer by
     * half a decade of tail probability (about 3.2 times fewer false alarms); a confirmed
     * anomaly gives back a quarter decade, so a key with as many false as true alerts still
     * drifts towards fewer alerts. The offset stays in [-1, +4] decades: at the default
     * threshold, between 1e-3 and 1e-8 of ordinary events.
     */
    public void applyFeedback(ScoreState st, boolean wasFalsePositive) {
        double step = wasFalsePositive ? FALSE_POSITIVE_STEP : -TRUE_POSITIVE_STEP;
        st.thresholdOffset = Math.max(MIN_OFFSET, Math.min(MAX_OFFSET, st.thresholdOffset + step));
    }

    /**
     * Numenta's log scale for display: log(1.0000000001 - likelihood) / log(1e-10), in [0, 1].
     * 0.5 likelihood maps to 0.03, the default threshold 0.9999 to 0.40, and 1 - 1e-10 to 1.
     */
    public static double logScore(double likelihood) {
        double s = Math.log(1.0000000001 - likelihood) / Math.log(1e-10);
        return s >= 0 ? Math.min(1, s) : 0;
    }
}
