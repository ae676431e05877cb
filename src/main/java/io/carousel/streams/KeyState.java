package io.carousel.streams;

import io.carousel.scoring.ScoreState;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * Everything Carousel keeps for one key between its events, in the key-state store: the LSTM's
 * h and c for every layer, normalisation statistics, the forecast made for the next event, the
 * event count, the last timestamp, the model version that produced the state, and the anomaly
 * scorer's state (opaque bytes owned by the scoring part).
 *
 * <p>h and c are stored as floats: half the bytes, and every event reads its state back from the
 * store's bytes, so an uninterrupted run and a restored one compute from the same rounded values.
 */
public final class KeyState {

    /**
     * The serialised format's version: bump it, and keep reading the old ones, when fields change.
     * 2 added the anomaly and feedback counters and the last control offset at the end; a format 1
     * record reads with those at their "nothing yet" values. 3 added the forecast gate's fields at the
     * end (the LSTM's own forecast, the recent errors of it and of persistence, the serving source,
     * and the targets' mean square change, the scale of model.target=change);
     * a format 2 record reads with the gate trusting the LSTM until it has evidence, as a new key does.
     * 4 added the seasonal-naive source at the end (the key's season in events, the seasonal forecast
     * for the next event, the seasonal forecast's recent error), and the smoothed source (simple
     * exponential smoothing, fitted at each re-warm: its weight, 0 = none, the smoothed level of every
     * target, which is its forecast for the next event, and its recent error); the source bytes now
     * name one of four sources (bits 2 and 3 of the gate byte: seasonal, smoothed). A format 1 to 3
     * record reads with neither until the key's next re-warm.
     */
    static final byte FORMAT = 4;
    static final byte FORMAT_3 = 3;
    static final byte FORMAT_2 = 2;
    static final byte FORMAT_1 = 1;
    /** Bytes format 2 adds to format 1, for a key without a group. */
    static final int FORMAT_2_EXTRA = 6 * 8 + 2;
    /** Bytes format 3 adds to format 2, per forecast target and in all. */
    static int format3Extra(int outputs) {
        return 2 * 8 * outputs + 3 * 8 + 1;
    }
    /** Bytes format 4 adds to format 3. */
    static int format4Extra(int outputs) {
        return 4 + 8 * outputs + 8 + 8 + 8 * outputs + 8;
    }

    /** What made a forecast (the stored codes: format 1 to 3 wrote 0 and 1 for the first two). */
    static final byte PERSISTENCE = 0;
    static final byte LSTM = 1;
    static final byte SEASONAL = 2;
    static final byte SMOOTHED = 3;

    /** The name of a source code, as the outputs' {@code source} field shows it. */
    static String sourceName(byte source) {
        return switch (source) {
            case LSTM -> "lstm";
            case SEASONAL -> "seasonal";
            case SMOOTHED -> "smoothed";
            default -> "persistence";
        };
    }
    /** A key is "anomalous" while one of its last this many events was flagged. */
    public static final long ANOMALOUS_EVENTS = 100;

    long modelVersion;
    long count;
    long lastTimestamp;
    /** Exponentially weighted mean gap between events (ms), for horizon timestamps and the time-delta input. */
    double meanInterval;
    final double[] last;     // [F] raw values of the previous event
    final double[] mean;     // [F] running mean, for normalisation
    final double[] var;      // [F] running variance, for normalisation
    final double[] forecast; // [O] raw forecast made for the next event; NaN until one exists
    byte forecastSource;     // what made forecast: PERSISTENCE, LSTM, SEASONAL or SMOOTHED
    final float[] hc;        // [2 * layers * H]: h of every layer, then c of every layer
    ScoreState score;        // the anomaly scorer's state
    double lastScore;
    long eventsSinceTrain;   // events since the key's model last trained (or since the key began)
    long lastTrainedAt;      // time of the key's last training attempt (event time, or wall time with retrain.clock=wall); 0 = never
    double trainMse;         // held-out one-step MSE (normalised units) of the serving model
    double driftSum;         // Page-Hinkley cumulative sum of (clipped error ratio - 1 - delta)
    double driftMin;         // its running minimum
    long anomalies;          // events flagged as anomalies, corrected by feedback (format 2)
    long lastAnomalyAt = -1; // event time of the latest flagged event; -1 = none
    long lastAnomalyCount;   // the key's count at that event (1-based)
    long falsePositives;     // feedback: flagged events marked as not anomalous
    long missedAnomalies;    // feedback: unflagged events marked as anomalous
    long lastControlOffset = -1; // offset of the last control record applied to the key (its partition's)
    String group;            // the key's model group (model.scope=group or global); null with per-key models
    final double[] modelForecast; // [O] the LSTM's forecast for the next event (format 3); NaN while none
    double gateModelErr = Double.NaN;   // recent mean |standardised error| of the LSTM's forecasts; NaN = no evidence yet
    double gatePersistErr = Double.NaN; // the same for persistence over the same events
    long gateEvents;         // events behind those two averages
    byte gateSource = LSTM;  // the source the gate serves while the key is trained; a new key trusts its LSTM
    boolean lastAttemptRejected; // the key's last training was rejected (format 3, bit 1 of the gate byte)
    final double[] changeMs; // [O] running mean square of the targets' changes (format 3); 0 = none yet
    int season;              // the key's season in events, detected at its last re-warm (format 4); 0 = none
    final double[] seasonalForecast; // [O] the value one season before the next event; NaN while none
    double gateSeasonalErr = Double.NaN; // recent mean |standardised error| of the seasonal forecasts; NaN = none
    double smoothing;        // the key's exponential smoothing weight, fitted at its last re-warm (format 4); 0 = none
    final double[] level;    // [O] the smoothed level after the last event: the smoothed forecast for the next
    double gateSmoothedErr = Double.NaN; // recent mean |standardised error| of the smoothed forecasts; NaN = none

    KeyState(int features, int outputs, int stateSize, ScoreState score) {
        last = new double[features];
        mean = new double[features];
        var = new double[features];
        forecast = new double[outputs];
        Arrays.fill(forecast, Double.NaN);
        modelForecast = new double[outputs];
        Arrays.fill(modelForecast, Double.NaN);
        changeMs = new double[outputs];
        seasonalForecast = new double[outputs];
        Arrays.fill(seasonalForecast, Double.NaN);
        level = new double[outputs];
        Arrays.fill(level, Double.NaN);
        hc = new float[stateSize];
        this.score = score;
    }

    public long modelVersion() {
        return modelVersion;
    }

    public long count() {
        return count;
    }

    public long lastTimestamp() {
        return lastTimestamp;
    }

    public double lastScore() {
        return lastScore;
    }

    public double[] forecast() {
        return forecast.clone();
    }

    public double[] lastValues() {
        return last.clone();
    }

    public long anomalies() {
        return anomalies;
    }

    public long lastAnomalyAt() {
        return lastAnomalyAt;
    }

    public long falsePositives() {
        return falsePositives;
    }

    public long missedAnomalies() {
        return missedAnomalies;
    }

    public long lastControlOffset() {
        return lastControlOffset;
    }

    /** The key's model group, or null with per-key models. */
    public String group() {
        return group;
    }

    private byte[] groupBytes() {
        return group == null ? new byte[0] : group.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    }

    /** True while one of the key's last {@link #ANOMALOUS_EVENTS} events is flagged. */
    public boolean anomalous() {
        return lastAnomalyAt >= 0 && count - lastAnomalyCount < ANOMALOUS_EVENTS;
    }

    /** Bytes of the serialised form. */
    public int serialisedSize() {
        return serialisedSize(groupBytes().length);
    }

    private int serialisedSize(int groupLength) {
        return 1 + 8 + 8 + 8 + 8 + 2 + 2 + 4 + 8 * (3 * last.length + forecast.length) + 1 + 4 * hc.length
                + score.byteSize() + 8 + 5 * 8 + FORMAT_2_EXTRA + groupLength + format3Extra(forecast.length)
                + format4Extra(forecast.length);
    }

    public byte[] serialise() {
        byte[] g = groupBytes(); // encoded once: this runs at every event
        byte[] out = new byte[serialisedSize(g.length)];
        Cursor b = new Cursor(out);
        b.put(FORMAT).putLong(modelVersion).putLong(count).putLong(lastTimestamp).putDouble(meanInterval);
        b.putShort(last.length).putShort(forecast.length).putInt(hc.length);
        b.putAll(last);
        b.putAll(mean);
        b.putAll(var);
        b.putAll(forecast);
        b.put(forecastSource);
        b.putAll(hc);
        int scoreBytes = score.byteSize();
        score.serialise(ByteBuffer.wrap(out, b.at, scoreBytes));
        b.at += scoreBytes;
        b.putDouble(lastScore);
        b.putLong(eventsSinceTrain).putLong(lastTrainedAt).putDouble(trainMse).putDouble(driftSum).putDouble(driftMin);
        b.putLong(anomalies).putLong(lastAnomalyAt).putLong(lastAnomalyCount).putLong(falsePositives)
                .putLong(missedAnomalies).putLong(lastControlOffset);
        b.putShort(g.length).put(g);
        b.putAll(modelForecast);
        b.putDouble(gateModelErr).putDouble(gatePersistErr).putLong(gateEvents)
                .put((byte) ((gateSource == LSTM ? 1 : 0) | (lastAttemptRejected ? 2 : 0) | (gateSource == SEASONAL ? 4 : 0)
                        | (gateSource == SMOOTHED ? 8 : 0)));
        b.putAll(changeMs);
        b.putInt(season);
        b.putAll(seasonalForecast);
        b.putDouble(gateSeasonalErr);
        b.putDouble(smoothing);
        b.putAll(level);
        b.putDouble(gateSmoothedErr);
        return out;
    }

    private static final VarHandle SHORT = MethodHandles.byteArrayViewVarHandle(short[].class, ByteOrder.BIG_ENDIAN);
    private static final VarHandle INT = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.BIG_ENDIAN);
    private static final VarHandle LONG = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.BIG_ENDIAN);
    private static final VarHandle FLOAT = MethodHandles.byteArrayViewVarHandle(float[].class, ByteOrder.BIG_ENDIAN);
    private static final VarHandle DOUBLE = MethodHandles.byteArrayViewVarHandle(double[].class, ByteOrder.BIG_ENDIAN);

    /**
     * Big-endian fields written and read in place in a byte array, at a moving offset: the record's
     * bytes as ByteBuffer wrote them, without its position bookkeeping at every field, nor a
     * byte-swapping view (a VM call) for h and c, which were a fifth of Carousel's own work per event
     * in ForecastStepBench. Out of bounds throws IndexOutOfBoundsException.
     */
    private static final class Cursor {
        private final byte[] b;
        private int at;

        Cursor(byte[] b) {
            this.b = b;
        }

        Cursor put(byte v) {
            b[at++] = v;
            return this;
        }

        Cursor put(byte[] v) {
            System.arraycopy(v, 0, b, at, v.length);
            at += v.length;
            return this;
        }

        Cursor putShort(int v) {
            SHORT.set(b, at, (short) v);
            at += 2;
            return this;
        }

        Cursor putInt(int v) {
            INT.set(b, at, v);
            at += 4;
            return this;
        }

        Cursor putLong(long v) {
            LONG.set(b, at, v);
            at += 8;
            return this;
        }

        Cursor putDouble(double v) {
            DOUBLE.set(b, at, v);
            at += 8;
            return this;
        }

        void putAll(double[] a) {
            for (double v : a) {
                putDouble(v);
            }
        }

        void putAll(float[] a) {
            for (float v : a) {
                FLOAT.set(b, at, v);
                at += 4;
            }
        }

        byte get() {
            return b[at++];
        }

        void get(byte[] into) {
            System.arraycopy(b, at, into, 0, into.length);
            at += into.length;
        }

        short getShort() {
            short v = (short) SHORT.get(b, at);
            at += 2;
            return v;
        }

        int getInt() {
            int v = (int) INT.get(b, at);
            at += 4;
            return v;
        }

        long getLong() {
            long v = (long) LONG.get(b, at);
            at += 8;
            return v;
        }

        double getDouble() {
            double v = (double) DOUBLE.get(b, at);
            at += 8;
            return v;
        }

        void getAll(double[] a) {
            for (int i = 0; i < a.length; i++) {
                a[i] = getDouble();
            }
        }

        void getAll(float[] a) {
            for (int i = 0; i < a.length; i++) {
                a[i] = (float) FLOAT.get(b, at);
                at += 4;
            }
        }
    }

    public static KeyState deserialise(byte[] bytes) {
        return deserialise(bytes, null);
    }

    /**
     * As {@link #deserialise(byte[])}, reading into {@code into} when it fits (a record of the
     * current format, whose every field it overwrites, with the same array sizes): the forecast
     * step reads one key's state at every event, and its arrays need not be new each time.
     * Returns {@code into} or a new state.
     */
    static KeyState deserialise(byte[] bytes, KeyState into) {
        try {
            return read(new Cursor(bytes), into);
        } catch (IndexOutOfBoundsException e) {
            throw new IllegalArgumentException("key state is truncated (" + bytes.length + " bytes)", e);
        }
    }

    private static KeyState read(Cursor b, KeyState into) {
        byte format = b.get();
        if (format < FORMAT_1 || format > FORMAT) {
            throw new IllegalArgumentException("key state format " + format + " is not supported (this build reads "
                    + FORMAT_1 + " to " + FORMAT + ")");
        }
        long modelVersion = b.getLong();
        long count = b.getLong();
        long lastTs = b.getLong();
        double interval = b.getDouble();
        int f = b.getShort();
        int o = b.getShort();
        int s = b.getInt();
        boolean fits = into != null && format == FORMAT && into.last.length == f && into.forecast.length == o
                && into.hc.length == s;
        KeyState k = fits ? into : new KeyState(f, o, s, null);
        k.modelVersion = modelVersion;
        k.count = count;
        k.lastTimestamp = lastTs;
        k.meanInterval = interval;
        b.getAll(k.last);
        b.getAll(k.mean);
        b.getAll(k.var);
        b.getAll(k.forecast);
        k.forecastSource = b.get();
        if (k.forecastSource < PERSISTENCE || k.forecastSource > (format >= 4 ? SMOOTHED : LSTM)) {
            throw new IllegalArgumentException("key state has an unknown forecast source " + k.forecastSource);
        }
        b.getAll(k.hc);
        ByteBuffer scoreBytes = ByteBuffer.wrap(b.b, b.at, b.b.length - b.at);
        k.score = ScoreState.deserialise(scoreBytes, fits ? into.score : null);
        b.at = scoreBytes.position();
        k.lastScore = b.getDouble();
        k.eventsSinceTrain = b.getLong();
        k.lastTrainedAt = b.getLong();
        k.trainMse = b.getDouble();
        k.driftSum = b.getDouble();
        k.driftMin = b.getDouble();
        if (format >= 2) {
            k.anomalies = b.getLong();
            k.lastAnomalyAt = b.getLong();
            k.lastAnomalyCount = b.getLong();
            k.falsePositives = b.getLong();
            k.missedAnomalies = b.getLong();
            k.lastControlOffset = b.getLong();
            byte[] g = new byte[Short.toUnsignedInt(b.getShort())];
            b.get(g);
            k.group = g.length == 0 ? null : new String(g, java.nio.charset.StandardCharsets.UTF_8);
        }
        if (format >= 3) {
            b.getAll(k.modelForecast);
            k.gateModelErr = b.getDouble();
            k.gatePersistErr = b.getDouble();
            k.gateEvents = b.getLong();
            byte flags = b.get();
            k.gateSource = (flags & 8) != 0 ? SMOOTHED : (flags & 4) != 0 ? SEASONAL : (flags & 1) != 0 ? LSTM : PERSISTENCE;
            k.lastAttemptRejected = (flags & 2) != 0;
            b.getAll(k.changeMs);
        } else {
            // before the gate the LSTM served whenever trained: it goes on serving until the
            // gate has evidence against it (gateSource stays LSTM, as for a new key), and the
            // stored forecast was the model's if it served
            if (k.forecastSource == LSTM) {
                System.arraycopy(k.forecast, 0, k.modelForecast, 0, o);
            }
        }
        if (format >= 4) {
            k.season = b.getInt();
            b.getAll(k.seasonalForecast);
            k.gateSeasonalErr = b.getDouble();
            k.smoothing = b.getDouble();
            b.getAll(k.level);
            k.gateSmoothedErr = b.getDouble();
        }
        if (b.at != b.b.length) {
            throw new IllegalArgumentException("key state has " + (b.b.length - b.at) + " trailing bytes");
        }
        return k;
    }
}
