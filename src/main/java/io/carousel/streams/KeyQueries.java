package io.carousel.streams;

import io.carousel.lstm.LstmModel;
import io.carousel.scoring.Scorer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Read-only views of the stream's state, for interactive queries: what a key's stored bytes mean
 * and a fresh forecast from them. It knows the state's layout and the forecaster's arithmetic, not
 * where the bytes come from (the HTTP layer reads them through Kafka Streams' interactive
 * queries, from whichever instance owns the key). Nothing here writes a store. Thread-safe: each
 * call works on its own buffers.
 */
public final class KeyQueries {

    /** What {@code GET /keys/{key}} shows. Numbers that do not exist yet are NaN. */
    public record KeyView(String key, String model, double[] lastValues, long lastTimestamp, double forecast,
                          double lower, double upper, long nextTimestamp, double score, boolean anomalous,
                          long anomalies, long lastAnomalyAt, double threshold, long falsePositives,
                          long missedAnomalies, long events, long modelVersion, String source, boolean warm,
                          long controlOffset) {}

    /** One step of a roll-out. */
    public record Step(int step, long timestamp, double forecast, double lower, double upper) {}

    /** A fresh roll-out of {@code steps} from the key's current state. */
    public record Rollout(String key, long fromTimestamp, long modelVersion, String source, List<Step> steps) {}

    private final StreamSettings settings;
    private final ModelSource models;
    private final Scorer scorer;

    public KeyQueries(StreamSettings settings, ModelSource models) {
        this.settings = settings;
        this.models = models;
        this.scorer = new Scorer(settings.scoring());
    }

    public StreamSettings settings() {
        return settings;
    }

    /** The model id a key's events train: the key itself with per-key models. */
    public boolean perKeyModels() {
        return settings.scope() == StreamSettings.Scope.KEY;
    }

    public KeyView view(String key, byte[] state) {
        KeyState k = KeyState.deserialise(state);
        double w = scorer.intervalHalfWidth(k.score, 0);
        double f = k.count == 0 ? Double.NaN : k.forecast[0];
        long step = Math.round(k.meanInterval);
        return new KeyView(key, perKeyModels() ? key : k.group, k.last.clone(), k.lastTimestamp, f, f - w, f + w,
                step > 0 ? k.lastTimestamp + step : -1, k.lastScore, k.anomalous(), k.anomalies, k.lastAnomalyAt,
                scorer.threshold(k.score), k.falsePositives, k.missedAnomalies, k.count, k.modelVersion,
                KeyState.sourceName(k.forecastSource), scorer.isWarm(k.score), k.lastControlOffset);
    }

    /** The offset of the last control record the key's task applied to it (-1: none). */
    public static long controlOffset(byte[] state) {
        return KeyState.deserialise(state).lastControlOffset;
    }

    /** The key's model group (null with per-key models). */
    public static String group(byte[] state) {
        return KeyState.deserialise(state).group;
    }

    /** The key's stored history since {@code since} (exclusive), within the retention. */
    public List<History.Event> history(org.apache.kafka.streams.state.ReadOnlyKeyValueStore<org.apache.kafka.common.utils.Bytes, byte[]> store,
                                       String key, byte[] state, long since) {
        KeyState k = KeyState.deserialise(state);
        return History.read(store, key, k.lastTimestamp, settings.retrain().historyRetentionMs(), since, null);
    }

    /**
     * {@code steps} forecasts from the key's current state: step 1 is the stored forecast for the
     * next event; each further step feeds the LSTM its own previous forecast (the other features
     * held at their last values), as the forecasts topic does with {@code forecast.horizon}. The
     * interval widens as sqrt(step), as there. With an untrained model every step is the last value.
     *
     * <p>A group's model may have moved on since the key's last event (the global store keeps only
     * the newest version): then the roll-out starts from the key's state re-warmed under the new
     * weights from its history, as the key's next event would.
     *
     * @param modelRecord the serving model's stored record (model store or group store), or null
     *                    when the key serves the initial model
     * @param history     the key's history, read only when a re-warm is needed
     */
    public Rollout rollout(String key, byte[] state, byte[] modelRecord,
                           java.util.function.Supplier<List<History.Event>> history, int steps) {
        KeyState k = KeyState.deserialise(state);
        List<List<History.Event>> read = new ArrayList<>(1); // the history, read at most once
        java.util.function.Supplier<List<History.Event>> events = () -> {
            if (read.isEmpty()) {
                read.add(history.get());
            }
            return read.get(0);
        };
        Served served;
        if (modelRecord == null) {
            served = Served.of(models.model(), models.version(), settings);
        } else {
            LstmModel m = ModelRecords.decode(key, modelRecord);
            served = Served.of(m, ModelRecords.version(m), settings);
            if (served.version() != k.modelVersion) {
                new KeyForecaster(settings, models.model(), models.version())
                        .rewarm(k, events.get(), served, ModelRecords.valLoss(m));
            }
        }
        byte source = served.trained() ? k.forecastSource : KeyState.PERSISTENCE;
        boolean trained = source == KeyState.LSTM;
        int o = settings.outputs();
        int f = settings.featureCount();
        double[] input = new double[settings.modelInputs()];
        float[] hc = k.hc.clone();
        double[] out = new double[o];
        KeyForecaster.rollOutStart(settings, k, input, out);
        double[] values = new double[steps * o];
        long[] times = new long[steps];
        KeyForecaster.rollOut(settings, k, served.stepper(), trained, k.lastTimestamp, input, hc, out, values, times, steps);
        if (source == KeyState.SEASONAL && steps > 1) {
            seasonalSteps(k, events.get(), values, steps);
        }
        double w = scorer.intervalHalfWidth(k.score, 0);
        List<Step> out1 = new ArrayList<>();
        for (int h = 0; h < steps; h++) {
            double half = w * Math.sqrt(h + 1);
            out1.add(new Step(h + 1, times[h], values[h * o], values[h * o] - half, values[h * o] + half));
        }
        return new Rollout(key, k.lastTimestamp, k.modelVersion, KeyState.sourceName(source), out1);
    }

    /**
     * The seasonal roll-out's values from the key's history (as the forecasts topic has them); left
     * as they are (every step the stored forecast) when the events it needs are gone.
     */
    private void seasonalSteps(KeyState k, List<History.Event> events, double[] values, int steps) {
        int o = settings.outputs();
        int rows = Math.min(steps, k.season);
        long first = k.count - k.season; // event T + 1 - L, T = k.count - 1 the key's last
        double[] window = new double[rows * o];
        int found = 0;
        for (History.Event e : events) {
            long i = e.seq() - first;
            if (i >= 0 && i < rows) {
                System.arraycopy(e.features(), 0, window, (int) i * o, o);
                found++;
            }
        }
        if (found == rows) {
            KeyForecaster.seasonalRollOut(k.season, o, window, rows, values, steps);
        }
    }

    /** The facts of a stored model record (ModelRecords' metadata keys). */
    public static Map<String, String> facts(String id, byte[] record) {
        LstmModel m = ModelRecords.decode(id, record);
        return m.metadata();
    }

    /** The version of a stored model record. */
    public static long version(String id, byte[] record) {
        return ModelRecords.version(ModelRecords.decode(id, record));
    }

    /** The version every key starts at (0 = untrained). */
    public long initialVersion() {
        return models.version();
    }
}
