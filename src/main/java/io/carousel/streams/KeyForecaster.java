package io.carousel.streams;

import io.carousel.lstm.LstmModel;
import io.carousel.lstm.LstmStepperF32;
import io.carousel.scoring.ScoreState;
import io.carousel.scoring.Scorer;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;

/**
 * The per-key logic of the stream, with no Kafka in it (the processor and {@code backtest} share
 * it): score the event against the forecast made for it, step the LSTM, make the next forecast.
 *
 * <p>Inputs are standardised per key by running statistics; the LSTM sees
 * {@code (x - mean) / scale} for every feature, then optionally the time since the previous event
 * (in units of the key's usual gap) and calendar features (sin/cos of time of day and day of week).
 * Its outputs are the next values of the first O features, in the same standardised units.
 *
 * <p>Until the key's model has been trained (version 0) the forecast is persistence (the last
 * value); the LSTM still steps, so its state is current when trained weights arrive.
 *
 * <p>With {@code model.target=change} the LSTM forecasts the change from the last value instead
 * of the level: its first O inputs are the last changes of the targets, scaled by their running
 * root mean square, then come the standardised levels, and its output is the next change in the
 * same units (a zero output is persistence). Differencing is the standard way to make a smooth or
 * trending series' one-step target stationary and of the size of what persistence gets wrong.
 *
 * <p>Once trained, a per-key gate picks the source of each forecast by recent error (model
 * selection on a rolling out-of-sample score, as forecasters combine or select models): the key
 * keeps an exponentially weighted mean absolute error, in standardised units, of the LSTM's
 * forecast and of persistence's for the same events, and serves the LSTM while it is the better
 * one, with a hysteresis of {@link #GATE_MARGIN} so that two near-equal sources do not alternate.
 * Absolute rather than squared errors, so a single spike cannot flip it. The LSTM steps and
 * forecasts either way, so its state and its score stay current while persistence serves.
 *
 * <p>With {@code forecast.seasonal} a key whose history repeats itself (see {@link Seasonality})
 * has a season, in events, detected at each re-warm; the gate then also tracks the seasonal-naive
 * forecast (the value one season before the event, which the caller reads from the key's history
 * and passes in) and serves the best of its sources, with the same margin. Like persistence it is a
 * candidate only once the key is trained: until then persistence serves.
 *
 * <p>With {@code forecast.smoothing} a key whose history is noise around a wandering level (see
 * {@link Smoothing}) also has simple exponential smoothing as a source: its weight is fitted at
 * each re-warm, its level updated at every event, with no store reads.
 * One instance per stream thread: it owns scratch buffers and is not thread-safe.
 */
public final class KeyForecaster {

    /** Events over which normalisation statistics average (exponential weighting after that). */
    static final int NORM_WINDOW = 1000;

    private final StreamSettings s;
    private final Scorer scorer;
    private Served served;
    private LstmStepperF32 stepper;
    private long modelVersion;
    private boolean trained;
    private final int f;
    private final int o;
    private final double[] input;
    private final double[] rollInput;
    /** h and c while a re-warm replays a history (a key's event steps its stored floats in place). */
    private final float[] state;
    private final float[] rollState;
    private final double[] out;
    private final double[] errors;
    private final double[] modelErrors;
    /** Weight of the newest error in the gate's averages (from forecast.gate.half-life); 0 = no gate. */
    private final double gateAlpha;

    /** The gate switches source only when the other one's recent error is this fraction lower. */
    static final double GATE_MARGIN = 0.05;

    /** Page-Hinkley drift test: allowed slack per event, and the alarm level (see {@link #updateDrift}). */
    static final double DRIFT_DELTA = 0.5;
    static final double DRIFT_LAMBDA = 50;
    static final double DRIFT_CLIP = 9;

    public KeyForecaster(StreamSettings settings, LstmModel model, long modelVersion) {
        this.s = settings;
        this.scorer = new Scorer(settings.scoring());
        this.f = settings.featureCount();
        this.o = settings.outputs();
        this.input = new double[settings.modelInputs()];
        this.rollInput = new double[input.length];
        this.state = new float[model.shape().stateSize()];
        this.rollState = new float[state.length];
        this.out = new double[o];
        this.errors = new double[o];
        this.modelErrors = new double[o];
        this.gateAlpha = gateAlpha(settings.gateHalfLife());
        use(Served.of(model, modelVersion, settings));
    }

    /** Serves these weights from the next event on (version 0 = untrained: persistence forecasts). */
    public void use(Served m) {
        this.served = m;
        this.stepper = m.stepper();
        this.modelVersion = m.version();
        this.trained = m.trained();
    }

    public Served served() {
        return served;
    }

    /** The model input of the last processed event (the scratch buffer: copy it to keep it). */
    double[] lastInput() {
        return input;
    }

    public long modelVersion() {
        return modelVersion;
    }

    /**
     * Feedback on one of the key's events: a false positive makes its alerts rarer, a missed
     * anomaly more frequent (see {@link Scorer#applyFeedback}).
     */
    void feedback(KeyState k, boolean falsePositive) {
        scorer.applyFeedback(k.score, falsePositive);
    }

    /** A new key's state. */
    public KeyState newState() {
        return new KeyState(f, o, state.length, ScoreState.initial(o));
    }

    /** Processes one event of a key with no seasonal value at hand (see the five-argument form). */
    public void process(KeyState k, long timestamp, double[] x, Outcome r) {
        process(k, timestamp, x, null, r);
    }

    /**
     * Processes one event of a key: updates {@code k} in place and fills {@code r}.
     *
     * @param seasonalNext [O] while the key has a season ({@code k.season > 0}): the targets of the
     *                     key's event one season before the next one, i.e. of event number
     *                     {@code k.count + 1 - k.season} (from the history); null or NaN when
     *                     that event is not at hand. Read, not kept.
     */
    public void process(KeyState k, long timestamp, double[] x, double[] seasonalNext, Outcome r) {
        if (!s.seasonal() || gateAlpha == 0) {
            k.season = 0; // switched off since the key's season was detected
        }
        if (!s.smoothing() || gateAlpha == 0) {
            k.smoothing = 0;
        }
        r.clear(o, s.horizon());
        r.timestamp = timestamp;
        boolean hadForecast = k.count > 0 && !Double.isNaN(k.forecast[0]);
        for (int j = 0; j < o; j++) {
            r.value[j] = x[j];
            r.forecast[j] = k.forecast[j];
            errors[j] = hadForecast ? x[j] - k.forecast[j] : 0.0;
            r.error[j] = hadForecast ? errors[j] : Double.NaN;
        }
        if (hadForecast) {
            r.expectedHalfWidth = scorer.intervalHalfWidth(k.score, 0);
            r.score = scorer.update(k.score, errors);
            for (int j = 0; j < o; j++) {
                r.deviation[j] = scorer.deviation(k.score, j);
            }
        } else {
            r.score = 0;
        }
        k.lastScore = r.score;
        r.warm = scorer.isWarm(k.score);
        // flag the first event of a run above the threshold: after a spike the short average
        // decays with the score still high, and those ordinary events are not anomalies themselves
        r.anomaly = hadForecast && r.warm && scorer.startsAlert(k.score);

        // the model's own forecast for this event (the served one may be persistence's)
        boolean hadModelForecast = hadForecast && trained && k.modelVersion == modelVersion
                && !Double.isNaN(k.modelForecast[0]);
        for (int j = 0; j < o; j++) {
            modelErrors[j] = hadModelForecast ? x[j] - k.modelForecast[j] : 0.0;
        }
        boolean hadSeasonal = k.season > 0 && !Double.isNaN(k.seasonalForecast[0]);
        boolean hadSmoothed = k.smoothing > 0 && !Double.isNaN(k.level[0]);
        if (hadModelForecast) {
            updateGate(k, x, hadSeasonal, hadSmoothed);
        }
        r.drift = hadModelForecast && updateDrift(k, modelErrors);
        long gap = k.count == 0 ? 0 : timestamp - k.lastTimestamp;
        if (k.count > 0 && gap > 0) {
            k.meanInterval = k.meanInterval == 0 ? gap : k.meanInterval + (gap - k.meanInterval) / 20.0;
        }
        updateNormalisation(k, x);
        buildInput(k, x, k.count > 0 ? k.last : null, gap, timestamp);
        if (!s.baseline()) {
            stepper.step(input, 0, k.hc, 0, out, 0);
        }
        boolean seasonal = k.season > 0 && seasonalNext != null && !Double.isNaN(seasonalNext[0]);
        byte source = servingSource(k, trained, seasonal);
        for (int j = 0; j < o; j++) {
            k.modelForecast[j] = trained ? fromOutput(s, k, j, out[j], x[j]) : Double.NaN;
            k.seasonalForecast[j] = seasonal ? seasonalNext[j] : Double.NaN;
            k.level[j] = k.smoothing > 0 ? smooth(k.level[j], x[j], k.smoothing) : Double.NaN;
            k.forecast[j] = pick(k, source, j, x[j]);
            r.nextForecast[j] = k.forecast[j];
            double w = scorer.intervalHalfWidth(k.score, j);
            r.lower[j] = k.forecast[j] - w;
            r.upper[j] = k.forecast[j] + w;
        }
        k.forecastSource = source;
        System.arraycopy(x, 0, k.last, 0, f);
        k.count++;
        k.eventsSinceTrain++;
        k.lastTimestamp = timestamp;
        k.modelVersion = modelVersion;
        r.source = source;
        r.modelVersion = modelVersion;
        r.count = k.count;
        long step = Math.round(k.meanInterval);
        r.horizonTime[0] = step > 0 ? timestamp + step : -1;
        if (s.horizon() > 1) {
            rollOut(k, timestamp, r);
        }
    }

    /**
     * The source that serves the next forecast: persistence until the key is trained, the LSTM
     * without a gate, else the gate's choice; a seasonal choice whose value is not at hand for this
     * event (its history record is gone) gives way to the better of the other two for the event.
     */
    private byte servingSource(KeyState k, boolean trained, boolean seasonalAtHand) {
        if (!trained) {
            return KeyState.PERSISTENCE;
        }
        if (gateAlpha == 0) {
            return KeyState.LSTM;
        }
        if ((k.gateSource == KeyState.SEASONAL && !seasonalAtHand) || (k.gateSource == KeyState.SMOOTHED && !(k.smoothing > 0))) {
            return k.gatePersistErr < k.gateModelErr ? KeyState.PERSISTENCE : KeyState.LSTM;
        }
        return k.gateSource;
    }

    /** Target j's forecast from {@code source}, the key's forecasts of every source made ({@code last}: persistence's). */
    private static double pick(KeyState k, byte source, int j, double last) {
        return switch (source) {
            case KeyState.LSTM -> k.modelForecast[j];
            case KeyState.SEASONAL -> k.seasonalForecast[j];
            case KeyState.SMOOTHED -> k.level[j];
            default -> last;
        };
    }

    /** The smoothed level after the value {@code x} (the level starts at the first value). */
    private static double smooth(double level, double x, double a) {
        return Double.isNaN(level) ? x : level + a * (x - level);
    }

    /**
     * Steps 2..horizon of the forecasts topic (persistence repeats the last value), on copies of the
     * input and state: the event's own input stays as it was (it is the group's training sample).
     * While the seasonal forecast serves, every step repeats it here; the caller, which has the
     * history, replaces them with {@link #seasonalRollOut}.
     */
    private void rollOut(KeyState k, long timestamp, Outcome r) {
        System.arraycopy(k.hc, 0, rollState, 0, rollState.length);
        System.arraycopy(input, 0, rollInput, 0, input.length);
        rollOut(s, k, stepper, k.forecastSource == KeyState.LSTM, timestamp, rollInput, rollState, out, r.horizon,
                r.horizonTime, s.horizon());
    }

    /**
     * The seasonal-naive roll-out of a key whose season L serves, after its event number T: step h
     * (1-based) forecasts event T + h with the value of event {@code T + h - L * ceil(h / L)}, the
     * same phase in the last season seen, i.e. {@code window} row {@code (h - 1) mod L}.
     *
     * @param window [rows][O] the targets of events T + 1 - L, T + 2 - L, ... (oldest first)
     * @param rows   rows of {@code window} at hand; at least {@code min(steps, L)} are needed
     * @param values [steps * O] written, unless there are too few rows (then false)
     * @return whether {@code values} was written
     */
    static boolean seasonalRollOut(int season, int o, double[] window, int rows, double[] values, int steps) {
        if (season <= 0 || rows < Math.min(steps, season)) {
            return false;
        }
        for (int h = 0; h < steps; h++) {
            System.arraycopy(window, (h % season) * o, values, h * o, o);
        }
        return true;
    }

    /**
     * A roll-out of {@code steps} forecasts from a key's state after its last event: step 1 is the
     * key's stored forecast; each further step feeds the LSTM its own previous output for the
     * targets, the other features held at their last inputs; untrained, every step repeats the
     * stored forecast. The forecasts topic's horizon and the query API's fresh roll-outs both come
     * from here. Allocates nothing.
     *
     * @param input  [modelInputs] the last event's inputs (modified: targets and time inputs overwritten)
     * @param state  [stateSize] h and c after the last event (modified)
     * @param out    [O] the normalised output behind the stored forecast (modified)
     * @param values [steps * O] written: every step's forecast, in raw units
     * @param times  [steps] written: every step's time, -1 while the key has no usual gap
     */
    static void rollOut(StreamSettings s, KeyState k, LstmStepperF32 stepper, boolean trained, long timestamp,
                        double[] input, float[] state, double[] out, double[] values, long[] times, int steps) {
        int o = s.outputs();
        int f = s.featureCount();
        int lev = s.changeTarget() ? o : 0; // where the levels start among the inputs
        long gap = Math.round(k.meanInterval);
        for (int h = 0; h < steps; h++) {
            long t = gap > 0 ? timestamp + (h + 1) * gap : -1;
            times[h] = t;
            if (h > 0 && trained) {
                System.arraycopy(out, 0, input, 0, o);
                if (s.changeTarget()) {
                    for (int j = 0; j < o; j++) {
                        input[lev + j] = (values[(h - 1) * o + j] - k.mean[j]) / scale(k, j);
                    }
                }
                if (s.timeDelta()) {
                    input[lev + f] = 1.0;
                }
                if (s.calendar() && t >= 0) {
                    calendar(t, input, lev + f + (s.timeDelta() ? 1 : 0));
                }
                stepper.step(input, 0, state, 0, out, 0);
            }
            for (int j = 0; j < o; j++) {
                values[h * o + j] = h > 0 && trained ? fromOutput(s, k, j, out[j], values[(h - 1) * o + j]) : k.forecast[j];
            }
        }
    }

    /**
     * The inputs and output behind a key's stored forecast, as {@link #rollOut} starts from them:
     * {@code out} the normalised output that gives {@code k.forecast}, {@code input} the
     * non-target features at their last values (the rest is overwritten by the roll-out).
     */
    static void rollOutStart(StreamSettings s, KeyState k, double[] input, double[] out) {
        int o = s.outputs();
        int lev = s.changeTarget() ? o : 0;
        for (int j = 0; j < o; j++) {
            out[j] = s.changeTarget() ? (k.forecast[j] - k.last[j]) / changeScale(k, j)
                    : (k.forecast[j] - k.mean[j]) / scale(k, j);
        }
        for (int i = o; i < s.featureCount(); i++) {
            input[lev + i] = (k.last[i] - k.mean[i]) / scale(k, i);
        }
    }

    /** The weight of the newest error for an exponential average with this half-life in events (0 = off). */
    static double gateAlpha(double halfLife) {
        return halfLife > 0 ? 1 - Math.pow(0.5, 1 / halfLife) : 0;
    }

    /**
     * The gate: updates the key's recent mean absolute standardised errors of the LSTM's forecast
     * ({@code k.modelForecast}), of persistence ({@code k.last}) and, when the key had them for this
     * event, of the seasonal forecast ({@code k.seasonalForecast}) and of the smoothed one
     * ({@code k.level}) for the event {@code x}, and switches the source when another one has been
     * better by more than {@link #GATE_MARGIN}.
     */
    private void updateGate(KeyState k, double[] x, boolean seasonal, boolean smoothed) {
        if (gateAlpha == 0) {
            return;
        }
        double em = 0;
        double ep = 0;
        double es = 0;
        double el = 0;
        for (int j = 0; j < o; j++) {
            double sc = scale(k, j);
            em += Math.abs(x[j] - k.modelForecast[j]) / sc;
            ep += Math.abs(x[j] - k.last[j]) / sc;
            es += seasonal ? Math.abs(x[j] - k.seasonalForecast[j]) / sc : 0;
            el += smoothed ? Math.abs(x[j] - k.level[j]) / sc : 0;
        }
        gateStep(k, em / o, ep / o, seasonal ? es / o : Double.NaN, smoothed ? el / o : Double.NaN, gateAlpha);
    }

    /**
     * One step of the gate's averages and its decision (also used when re-warming over history).
     * The averages are plain running means until they span the exponential window ({@code 1/alpha}
     * events), so that the first events do not weigh more than later ones, and the gate decides
     * nothing before that: a key new to a trained model, or read from an older format, keeps the
     * LSTM until there is that much evidence.
     */
    static void gateStep(KeyState k, double modelErr, double persistErr, double alpha) {
        gateStep(k, modelErr, persistErr, Double.NaN, Double.NaN, alpha);
    }

    /**
     * The same with the seasonal and the smoothed forecasts' errors ({@code seasonalErr},
     * {@code smoothedErr}; NaN when the key had no such forecast for the event, which leaves that
     * average as it was). The seasonal source is a candidate while the key has a season and its
     * average exists, the smoothed one while the key has a smoothing weight and its average exists;
     * the gate serves the source with the lowest average once it is more than {@link #GATE_MARGIN}
     * below the serving one's (with two candidates, exactly the rule before the others). A source
     * that is no longer a candidate (the key lost its season or its weight) gives way to the
     * better of the LSTM and persistence.
     */
    static void gateStep(KeyState k, double modelErr, double persistErr, double seasonalErr, double smoothedErr,
                         double alpha) {
        if (!Double.isFinite(modelErr) || !Double.isFinite(persistErr)) {
            return;
        }
        if (Double.isNaN(k.gateModelErr) || Double.isNaN(k.gatePersistErr)) {
            k.gateModelErr = 0;
            k.gatePersistErr = 0;
            k.gateSeasonalErr = Double.NaN;
            k.gateSmoothedErr = Double.NaN;
            k.gateEvents = 0;
        }
        k.gateEvents++;
        double w = Math.max(alpha, 1.0 / k.gateEvents);
        k.gateModelErr += w * (modelErr - k.gateModelErr);
        k.gatePersistErr += w * (persistErr - k.gatePersistErr);
        if (Double.isFinite(seasonalErr)) {
            k.gateSeasonalErr = Double.isNaN(k.gateSeasonalErr) ? seasonalErr
                    : k.gateSeasonalErr + w * (seasonalErr - k.gateSeasonalErr);
        }
        if (Double.isFinite(smoothedErr)) {
            k.gateSmoothedErr = Double.isNaN(k.gateSmoothedErr) ? smoothedErr
                    : k.gateSmoothedErr + w * (smoothedErr - k.gateSmoothedErr);
        }
        boolean seasonal = k.season > 0 && Double.isFinite(k.gateSeasonalErr);
        boolean smoothed = k.smoothing > 0 && Double.isFinite(k.gateSmoothedErr);
        if ((k.gateSource == KeyState.SEASONAL && !seasonal) || (k.gateSource == KeyState.SMOOTHED && !smoothed)) {
            k.gateSource = k.gatePersistErr < k.gateModelErr ? KeyState.PERSISTENCE : KeyState.LSTM;
        }
        if (k.gateEvents < 1 / alpha) {
            return;
        }
        byte best = k.gatePersistErr < k.gateModelErr ? KeyState.PERSISTENCE : KeyState.LSTM;
        double bestErr = Math.min(k.gateModelErr, k.gatePersistErr);
        if (seasonal && k.gateSeasonalErr < bestErr) {
            best = KeyState.SEASONAL;
            bestErr = k.gateSeasonalErr;
        }
        if (smoothed && k.gateSmoothedErr < bestErr) {
            best = KeyState.SMOOTHED;
            bestErr = k.gateSmoothedErr;
        }
        double serving = switch (k.gateSource) {
            case KeyState.LSTM -> k.gateModelErr;
            case KeyState.SEASONAL -> k.gateSeasonalErr;
            case KeyState.SMOOTHED -> k.gateSmoothedErr;
            default -> k.gatePersistErr;
        };
        if (best != k.gateSource && bestErr < (1 - GATE_MARGIN) * serving) {
            k.gateSource = best;
        }
    }

    /**
     * The drift test: Page-Hinkley (Page 1954; Hinkley 1971) on the ratio of the squared
     * standardised error to the serving model's held-out MSE. While the model is as good as when it
     * was validated the ratio averages 1, and the sum of (ratio - 1 - delta) falls; when the error
     * grows the sum rises, and an alarm is raised once it stands lambda above its minimum. With
     * delta 0.5 and lambda 50, errors twice as large as at validation raise it in about 100 events,
     * four times as large in about 20; the ratio is clipped at 9 (3 sigma) so that single outliers,
     * which the anomaly score is for, cannot raise it alone.
     *
     * @return true when the key's model has drifted
     */
    private boolean updateDrift(KeyState k, double[] err) {
        if (!(k.trainMse > 0)) {
            return false;
        }
        double sq = 0;
        for (int j = 0; j < o; j++) {
            double z = err[j] / (s.changeTarget() ? changeScale(k, j) : scale(k, j));
            sq += z * z;
        }
        double ratio = Math.min(sq / o / k.trainMse, DRIFT_CLIP);
        if (!Double.isFinite(ratio)) {
            return false;
        }
        k.driftSum += ratio - 1 - DRIFT_DELTA;
        k.driftMin = Math.min(k.driftMin, k.driftSum);
        return k.driftSum - k.driftMin > DRIFT_LAMBDA;
    }

    /**
     * The LSTM's inputs for a stretch of the key's history, normalised with the key's current
     * statistics: rows [N][modelInputs], for training. Events flagged as anomalies are left out
     * when {@code excludeAnomalies}.
     *
     * @return the rows written into a new array; its length / modelInputs is the row count
     */
    double[] trainingSeries(KeyState k, java.util.List<History.Event> events, boolean excludeAnomalies) {
        int w = input.length;
        double[] series = new double[events.size() * w];
        int rows = 0;
        long prevTs = -1;
        double[] prev = null;
        for (History.Event e : events) {
            if (excludeAnomalies && e.anomaly()) {
                continue;
            }
            buildInput(k, e.features(), prev, prevTs < 0 ? 0 : e.timestamp() - prevTs, e.timestamp());
            System.arraycopy(input, 0, series, rows * w, w);
            rows++;
            prevTs = e.timestamp();
            prev = e.features();
        }
        return java.util.Arrays.copyOf(series, rows * w);
    }

    /**
     * Re-warms a key's state under new weights by replaying its history through them from zero
     * state, so h and c always match the weights that use them; the last step's output becomes the
     * next forecast. With {@code forecast.seasonal} and {@code forecast.smoothing} (and a gate) the
     * key's season and smoothing weight are fitted anew to the same history, and the gate's record
     * over it includes the seasonal and the smoothed forecasts.
     */
    void rewarm(KeyState k, java.util.List<History.Event> events, Served m, double trainMse) {
        java.util.Arrays.fill(state, 0f);
        // the gate starts from the new weights' record over the history (the held-out part, the
        // newest, weighs most); before that, it trusts the validation that accepted them
        k.gateModelErr = Double.NaN;
        k.gatePersistErr = Double.NaN;
        k.gateSeasonalErr = Double.NaN;
        k.gateSmoothedErr = Double.NaN;
        k.gateSource = m.trained() ? KeyState.LSTM : KeyState.PERSISTENCE;
        // the season's values: the newest run of consecutive events (the history has no gaps, but a
        // season must count events, so this does not assume it)
        int from = events.size() - 1;
        while (from > 0 && events.get(from - 1).seq() == events.get(from).seq() - 1) {
            from--;
        }
        from = Math.max(from, 0);
        boolean candidates = gateAlpha > 0 && m.trained();
        double[] values = candidates ? targets(events, from) : null;
        double[] sc = new double[o];
        for (int j = 0; j < o; j++) {
            sc[j] = scale(k, j);
        }
        int n = events.size() - from;
        k.season = s.seasonal() && candidates ? Seasonality.detect(values, n, o, sc) : 0;
        k.smoothing = s.smoothing() && candidates ? Smoothing.fit(values, n, o, sc) : 0;
        java.util.Arrays.fill(k.level, Double.NaN);
        // with a season, the gate's record starts where every source has a forecast
        int gateFrom = k.season > 0 ? from + k.season : 1;
        long prevTs = -1;
        double[] prev = null;
        for (int i = 0; i < events.size(); i++) {
            History.Event e = events.get(i);
            double[] x = e.features();
            if (prev != null && m.trained() && gateAlpha > 0 && i >= gateFrom) {
                double em = 0;
                double ep = 0;
                double es = 0;
                double el = 0;
                double[] back = k.season > 0 ? events.get(i - k.season).features() : null;
                boolean smoothed = k.smoothing > 0 && !Double.isNaN(k.level[0]);
                for (int j = 0; j < o; j++) {
                    double scj = sc[j];
                    em += Math.abs(x[j] - fromOutput(s, k, j, out[j], prev[j])) / scj;
                    ep += Math.abs(x[j] - prev[j]) / scj;
                    es += back != null ? Math.abs(x[j] - back[j]) / scj : 0;
                    el += smoothed ? Math.abs(x[j] - k.level[j]) / scj : 0;
                }
                gateStep(k, em / o, ep / o, back != null ? es / o : Double.NaN, smoothed ? el / o : Double.NaN, gateAlpha);
            }
            if (k.smoothing > 0 && i >= from) {
                for (int j = 0; j < o; j++) {
                    k.level[j] = smooth(k.level[j], x[j], k.smoothing);
                }
            }
            buildInput(k, x, prev, prevTs < 0 ? 0 : e.timestamp() - prevTs, e.timestamp());
            m.stepper().step(input, 0, state, 0, out, 0);
            prevTs = e.timestamp();
            prev = x;
        }
        System.arraycopy(state, 0, k.hc, 0, state.length);
        // the value one season before the next event
        int back = events.size() - k.season;
        boolean seasonal = k.season > 0 && back >= from;
        for (int j = 0; j < o; j++) {
            k.seasonalForecast[j] = seasonal ? events.get(back).features()[j] : Double.NaN;
        }
        if (!events.isEmpty() && m.trained()) {
            byte source = servingSource(k, true, seasonal);
            for (int j = 0; j < o; j++) {
                k.modelForecast[j] = fromOutput(s, k, j, out[j], k.last[j]);
                k.forecast[j] = pick(k, source, j, k.last[j]);
            }
            k.forecastSource = source;
        } else if (!m.trained() && k.count > 0) {
            // back to an untrained model (a rollback): persistence again
            System.arraycopy(k.last, 0, k.forecast, 0, o);
            java.util.Arrays.fill(k.modelForecast, Double.NaN);
            k.forecastSource = KeyState.PERSISTENCE;
        }
        k.modelVersion = m.version();
        k.trainMse = trainMse;
        k.driftSum = 0;
        k.driftMin = 0;
        k.eventsSinceTrain = 0;
        k.lastAttemptRejected = false;
    }

    /** The targets of the events [from, size), [n][O]: where the season and the smoothing weight are fitted. */
    private double[] targets(java.util.List<History.Event> events, int from) {
        int n = events.size() - from;
        double[] v = new double[Math.max(n, 0) * o];
        for (int i = 0; i < n; i++) {
            System.arraycopy(events.get(from + i).features(), 0, v, i * o, o);
        }
        return v;
    }

    private void updateNormalisation(KeyState k, double[] x) {
        if (k.count > 0) {
            // the mean square of the targets' changes (k.count changes so far, this one included)
            double beta = 1.0 / Math.min(k.count, NORM_WINDOW);
            for (int j = 0; j < o; j++) {
                double d = x[j] - k.last[j];
                k.changeMs[j] += beta * (d * d - k.changeMs[j]);
                if (!Double.isFinite(k.changeMs[j])) {
                    k.changeMs[j] = 0;
                }
            }
        }
        double alpha = 1.0 / Math.min(k.count + 1, NORM_WINDOW);
        for (int i = 0; i < f; i++) {
            double d = x[i] - k.mean[i];
            k.mean[i] += alpha * d;
            k.var[i] = (1 - alpha) * (k.var[i] + alpha * d * d);
            if (!Double.isFinite(k.mean[i]) || !Double.isFinite(k.var[i])) {
                // values beyond the double range's square: restart the statistics at this value
                k.mean[i] = x[i];
                k.var[i] = 0;
            }
        }
    }

    /** The normalisation scale: the running standard deviation, never zero (a constant series is fine). */
    static double scale(KeyState k, int i) {
        double sd = Math.sqrt(k.var[i]);
        double floor = 1e-9 * Math.max(1.0, Math.abs(k.mean[i]));
        return Math.max(sd, floor);
    }

    /** The scale of target j's changes: their running root mean square, never zero. */
    static double changeScale(KeyState k, int j) {
        double rms = Math.sqrt(k.changeMs[j]);
        double floor = 1e-9 * Math.max(1.0, Math.abs(k.mean[j]));
        return Math.max(rms, floor);
    }

    private static double denormalise(KeyState k, int j, double z) {
        return k.mean[j] + scale(k, j) * z;
    }

    /** Target j's forecast in raw units from the LSTM's output {@code z}, after the value {@code last}. */
    private static double fromOutput(StreamSettings s, KeyState k, int j, double z, double last) {
        return s.changeTarget() ? last + changeScale(k, j) * z : denormalise(k, j, z);
    }

    /** The LSTM's inputs for the event {@code x} after {@code prev} (null for a key's first event). */
    private void buildInput(KeyState k, double[] x, double[] prev, long gap, long timestamp) {
        int p = 0;
        if (s.changeTarget()) {
            for (int j = 0; j < o; j++) {
                input[p++] = prev == null ? 0.0 : (x[j] - prev[j]) / changeScale(k, j);
            }
        }
        for (int i = 0; i < f; i++) {
            input[p++] = (x[i] - k.mean[i]) / scale(k, i);
        }
        if (s.timeDelta()) {
            input[p++] = k.meanInterval > 0 ? Math.min(gap / k.meanInterval, 100.0) : 0.0;
        }
        if (s.calendar()) {
            calendar(timestamp, input, p);
        }
    }

    /** sin/cos of the time of day and of the day of week (UTC). */
    static void calendar(long timestamp, double[] v, int at) {
        long msDay = 86_400_000L;
        double day = Math.floorMod(timestamp, msDay) / (double) msDay;
        // 1970-01-01 was a Thursday: shift so that Monday 00:00 is 0
        double week = Math.floorMod(timestamp + 3 * msDay, 7 * msDay) / (double) (7 * msDay);
        v[at] = Math.sin(2 * Math.PI * day);
        v[at + 1] = Math.cos(2 * Math.PI * day);
        v[at + 2] = Math.sin(2 * Math.PI * week);
        v[at + 3] = Math.cos(2 * Math.PI * week);
    }

    static ZonedDateTime utc(long ms) {
        return Instant.ofEpochMilli(ms).atZone(ZoneOffset.UTC);
    }
}
