package io.carousel.streams;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * A key's recent events in the changelogged history store, one small record per event so an event
 * costs one put (and one delete once the key is at {@code history.max-events}), never a rewrite of
 * the whole window. Store keys are {@code [key length][key bytes][sequence]} (big-endian, so a
 * key's events are contiguous and in order); values are {@code [timestamp][flags][features]}.
 * Memory per key is bounded by the count cap; the time retention is applied when reading and by
 * deleting older events as new ones arrive.
 */
final class History {

    /** The event was scored as an anomaly (left out of training with training.exclude-anomalies). */
    static final byte ANOMALY = 1;

    /** One stored event. */
    record Event(long seq, long timestamp, boolean anomaly, double[] features) {}

    private final KeyValueStore<Bytes, byte[]> store;
    private final int maxEvents;
    private final long retentionMs;

    History(KeyValueStore<Bytes, byte[]> store, int maxEvents, long retentionMs) {
        this.store = store;
        this.maxEvents = maxEvents;
        this.retentionMs = retentionMs;
    }

    static Bytes storeKey(byte[] key, long seq) {
        return Bytes.wrap(ByteBuffer.allocate(4 + key.length + 8).putInt(key.length).put(key).putLong(seq).array());
    }

    /**
     * Appends event number {@code seq} (the key's count before this event) and deletes the event
     * that falls out of the count cap.
     */
    void append(String key, long seq, long timestamp, boolean anomaly, double[] features) {
        byte[] k = key.getBytes(StandardCharsets.UTF_8);
        ByteBuffer v = ByteBuffer.allocate(8 + 1 + 8 * features.length);
        v.putLong(timestamp).put(anomaly ? ANOMALY : 0);
        for (double f : features) {
            v.putDouble(f);
        }
        store.put(storeKey(k, seq), v.array());
        if (seq >= maxEvents) {
            store.delete(storeKey(k, seq - maxEvents));
        }
    }

    /**
     * The key's events within the retention of {@code newest} (the key's last timestamp), oldest
     * first; older ones found on the way are deleted.
     */
    java.util.List<Event> read(String key, long newest) {
        byte[] k = key.getBytes(StandardCharsets.UTF_8);
        java.util.List<Event> out = new java.util.ArrayList<>();
        java.util.List<Bytes> expired = new java.util.ArrayList<>();
        try (KeyValueIterator<Bytes, byte[]> it = store.range(storeKey(k, 0), storeKey(k, Long.MAX_VALUE))) {
            while (it.hasNext()) {
                KeyValue<Bytes, byte[]> kv = it.next();
                ByteBuffer v = ByteBuffer.wrap(kv.value);
                long ts = v.getLong();
                boolean anomaly = v.get() == ANOMALY;
                if (newest - ts > retentionMs) {
                    expired.add(kv.key);
                    continue;
                }
                double[] f = new double[v.remaining() / 8];
                for (int i = 0; i < f.length; i++) {
                    f[i] = v.getDouble();
                }
                long seq = ByteBuffer.wrap(kv.key.get(), kv.key.get().length - 8, 8).getLong();
                out.add(new Event(seq, ts, anomaly, f));
            }
        }
        for (Bytes e : expired) {
            store.delete(e);
        }
        return out;
    }
}
