package io.carousel.streams;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;

/**
 * A key's recent events in the changelogged history store, one small record per event so an event
 * costs one put (and one delete once the key is at {@code history.max-events}), never a rewrite of
 * the whole window. Store keys are {@code [key length][key bytes][sequence]} (big-endian, so a
 * key's events are contiguous and in order); values are {@code [timestamp][flags][features]}, or,
 * with the {@link #BAND} flag, {@code [timestamp][flags][forecast][half-width][features]}: what had
 * been forecast for the event's first target and the half-width of its interval, for the
 * dashboard's chart (records written before the flag existed read with NaN there).
 * Memory per key is bounded by the count cap; the time retention is applied when reading and by
 * deleting older events as new ones arrive.
 */
public final class History {

    /** The event was scored as an anomaly (left out of training with training.exclude-anomalies). */
    static final byte ANOMALY = 1;
    /** The record carries the forecast made for the event and its interval's half-width. */
    static final byte BAND = 2;

    /** One stored event; {@code forecast} and {@code halfWidth} are NaN where none was made. */
    public record Event(long seq, long timestamp, boolean anomaly, double[] features, double forecast, double halfWidth) {
        Event(long seq, long timestamp, boolean anomaly, double[] features) {
            this(seq, timestamp, anomaly, features, Double.NaN, Double.NaN);
        }
    }

    private final KeyValueStore<Bytes, byte[]> store;
    private final int maxEvents;
    private final long retentionMs;

    History(KeyValueStore<Bytes, byte[]> store, int maxEvents, long retentionMs) {
        this.store = store;
        this.maxEvents = maxEvents;
        this.retentionMs = retentionMs;
    }

    /** Bytes of one stored event's value, with its forecast and interval ({@link #BAND}). */
    public static int valueBytes(int features) {
        return 8 + 1 + 16 + 8 * features;
    }

    static Bytes storeKey(byte[] key, long seq) {
        return Bytes.wrap(ByteBuffer.allocate(4 + key.length + 8).putInt(key.length).put(key).putLong(seq).array());
    }

    /**
     * Appends event number {@code seq} (the key's count before this event), with the forecast made
     * for it and its interval's half-width, and deletes the event that falls out of the count cap.
     * {@code k} is the series key's UTF-8 bytes.
     */
    void append(byte[] k, long seq, long timestamp, boolean anomaly, double[] features, double forecast, double halfWidth) {
        ByteBuffer v = ByteBuffer.allocate(valueBytes(features.length));
        v.putLong(timestamp).put((byte) ((anomaly ? ANOMALY : 0) | BAND)).putDouble(forecast).putDouble(halfWidth);
        for (double f : features) {
            v.putDouble(f);
        }
        store.put(storeKey(k, seq), v.array());
        if (seq >= maxEvents) {
            store.delete(storeKey(k, seq - maxEvents));
        }
    }

    private static final java.lang.invoke.VarHandle DOUBLE =
            java.lang.invoke.MethodHandles.byteArrayViewVarHandle(double[].class, java.nio.ByteOrder.BIG_ENDIAN);

    /**
     * The first {@code o} features of the key's event number {@code seq} into {@code into} (one
     * point read, for the seasonal forecast); false, {@code into} untouched, when the key has no
     * such event stored (never had it, or it fell out of the count cap).
     */
    boolean targets(byte[] k, long seq, double[] into, int o) {
        if (seq < 0) {
            return false;
        }
        byte[] v = store.get(storeKey(k, seq));
        if (v == null) {
            return false;
        }
        readTargets(v, into, 0, o);
        return true;
    }

    /**
     * The first {@code o} features of the key's events {@code from .. from + rows - 1} into
     * {@code into} ([rows][o], one range read): the number of consecutive events found from
     * {@code from} on.
     */
    int targets(byte[] k, long from, int rows, double[] into, int o) {
        if (from < 0 || rows <= 0) {
            return 0;
        }
        int found = 0;
        try (KeyValueIterator<Bytes, byte[]> it = store.range(storeKey(k, from), storeKey(k, from + rows - 1))) {
            while (it.hasNext()) {
                KeyValue<Bytes, byte[]> kv = it.next();
                byte[] key = kv.key.get();
                if ((long) LONG.get(key, key.length - 8) != from + found) {
                    break;
                }
                readTargets(kv.value, into, found * o, o);
                found++;
            }
        }
        return found;
    }

    private static final java.lang.invoke.VarHandle LONG =
            java.lang.invoke.MethodHandles.byteArrayViewVarHandle(long[].class, java.nio.ByteOrder.BIG_ENDIAN);

    private static void readTargets(byte[] v, double[] into, int at, int o) {
        int p = 8 + 1 + ((v[8] & BAND) != 0 ? 16 : 0);
        for (int j = 0; j < o; j++) {
            into[at + j] = (double) DOUBLE.get(v, p + 8 * j);
        }
    }

    /**
     * The key's events within the retention of {@code newest} (the key's last timestamp), oldest
     * first; older ones found on the way are deleted.
     */
    java.util.List<Event> read(String key, long newest) {
        java.util.List<Bytes> expired = new java.util.ArrayList<>();
        java.util.List<Event> out = read(store, key, newest, retentionMs, Long.MIN_VALUE, expired);
        for (Bytes e : expired) {
            store.delete(e);
        }
        return out;
    }

    /**
     * The key's events within {@code retentionMs} of {@code newest} and after {@code since} (event
     * time, exclusive), oldest first, from any store of this layout: the stream thread's, or a
     * read-only one behind an interactive query. Keys of expired events are added to {@code expired}
     * when it is not null.
     */
    public static java.util.List<Event> read(ReadOnlyKeyValueStore<Bytes, byte[]> store, String key, long newest,
                                             long retentionMs, long since, java.util.List<Bytes> expired) {
        java.util.List<Event> out = new java.util.ArrayList<>();
        scan(store, key, kv -> {
            Event e = decode(kv.key, kv.value);
            if (newest - e.timestamp() > retentionMs) {
                if (expired != null) {
                    expired.add(kv.key);
                }
            } else if (e.timestamp() > since) {
                out.add(e);
            }
        });
        return out;
    }

    /** Every stored event of the key, oldest first. */
    private static void scan(ReadOnlyKeyValueStore<Bytes, byte[]> store, String key,
                             java.util.function.Consumer<KeyValue<Bytes, byte[]>> each) {
        byte[] k = key.getBytes(StandardCharsets.UTF_8);
        try (KeyValueIterator<Bytes, byte[]> it = store.range(storeKey(k, 0), storeKey(k, Long.MAX_VALUE))) {
            while (it.hasNext()) {
                each.accept(it.next());
            }
        }
    }

    private static Event decode(Bytes storeKey, byte[] value) {
        ByteBuffer v = ByteBuffer.wrap(value);
        long ts = v.getLong();
        byte flags = v.get();
        double forecast = Double.NaN;
        double halfWidth = Double.NaN;
        if ((flags & BAND) != 0) {
            forecast = v.getDouble();
            halfWidth = v.getDouble();
        }
        double[] f = new double[v.remaining() / 8];
        for (int i = 0; i < f.length; i++) {
            f[i] = v.getDouble();
        }
        long seq = ByteBuffer.wrap(storeKey.get(), storeKey.get().length - 8, 8).getLong();
        return new Event(seq, ts, (flags & ANOMALY) != 0, f, forecast, halfWidth);
    }

    /**
     * Sets or clears the anomaly flag of the key's latest event at {@code timestamp} whose flag is
     * not already {@code anomaly} (feedback on that event); returns it as it was, or null if the
     * key has no such event.
     */
    Event mark(String key, long timestamp, boolean anomaly) {
        java.util.List<KeyValue<Bytes, byte[]>> found = new java.util.ArrayList<>(1);
        scan(store, key, kv -> {
            if (ByteBuffer.wrap(kv.value).getLong() == timestamp && ((kv.value[8] & ANOMALY) != 0) != anomaly) {
                found.clear();
                found.add(kv); // the latest one wins
            }
        });
        if (found.isEmpty()) {
            return null;
        }
        KeyValue<Bytes, byte[]> kv = found.get(0);
        byte[] v = kv.value.clone();
        v[8] = (byte) (anomaly ? v[8] | ANOMALY : v[8] & ~ANOMALY);
        store.put(kv.key, v);
        return decode(kv.key, kv.value);
    }

    /** The key's latest flagged event, or null. */
    Event latestAnomaly(String key) {
        java.util.List<KeyValue<Bytes, byte[]>> latest = new java.util.ArrayList<>(1);
        scan(store, key, kv -> {
            if ((kv.value[8] & ANOMALY) != 0) {
                latest.clear();
                latest.add(kv);
            }
        });
        return latest.isEmpty() ? null : decode(latest.get(0).key, latest.get(0).value);
    }
}
