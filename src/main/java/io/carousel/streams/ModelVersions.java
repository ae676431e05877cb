package io.carousel.streams;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.carousel.lstm.LstmModel;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;

/**
 * The versions of each per-key model, in the changelogged {@link CarouselTopology#MODEL_VERSIONS_STORE}
 * beside the model store (which holds only the serving version's weights): the facts of the last
 * {@link #KEEP_VERSIONS} versions (training time, data span, losses, lineage), for
 * {@code GET /models/{id}}, and the weights of the {@link #KEEP_WEIGHTS} versions a rollback can
 * go back to: the serving version's previous one and that one's previous.
 *
 * <p>Why not every version's weights: at H = 32 a version is 36 KB (F64, so what is restored is
 * exactly what served), and per-key models multiply that by the key count; two rollbacks in a row
 * cover the case rollback is for (a new model turned out worse), and the facts of older versions
 * stay for the record.
 *
 * <p>Store keys are {@code [id length][id][version]} (big-endian, so a model's versions are
 * contiguous and ascending); values are {@code 'W'} + the safetensors record, or {@code 'M'} + the
 * facts as a JSON object.
 */
public final class ModelVersions {

    public static final int KEEP_VERSIONS = 20;
    public static final int KEEP_WEIGHTS = 2;
    /** Wall-clock time a version stopped serving because of a rollback (facts key). */
    static final String ROLLED_BACK_AT = "model.rolled-back-at";

    private static final byte WEIGHTS = 'W';
    private static final byte FACTS = 'M';
    private static final ObjectMapper JSON = new ObjectMapper();

    /** One version: its number, its facts (ModelRecords' metadata keys), and whether its weights are kept. */
    public record Version(long version, Map<String, String> facts, boolean hasWeights) {
        public long number(String key, long otherwise) {
            try {
                return Long.parseLong(facts.getOrDefault(key, ""));
            } catch (NumberFormatException e) {
                return otherwise;
            }
        }

        public double real(String key) {
            try {
                return Double.parseDouble(facts.getOrDefault(key, ""));
            } catch (NumberFormatException e) {
                return Double.NaN;
            }
        }

        /** The version that served before this one; -1 if unknown. */
        public long previous() {
            return number(ModelRecords.PREVIOUS, -1);
        }

        /** Whether a rollback could return to {@code version}: for a group model, as its record says; per key, its own flag. */
        public boolean weightsKept(long version) {
            String kept = facts.get(ModelRecords.WEIGHTS_KEPT);
            return kept != null && java.util.Arrays.asList(kept.split(",")).contains(Long.toString(version));
        }

        /** A group rollback to the untrained initial model published this version: it forecasts by persistence. */
        public boolean untrained() {
            return "true".equals(facts.get(ModelRecords.UNTRAINED));
        }
    }

    private final KeyValueStore<Bytes, byte[]> store;

    ModelVersions(KeyValueStore<Bytes, byte[]> store) {
        this.store = store;
    }

    KeyValueStore<Bytes, byte[]> store() {
        return store;
    }

    static Bytes storeKey(String id, long version) {
        return History.storeKey(id.getBytes(StandardCharsets.UTF_8), version);
    }

    /** The model's kept versions, oldest first, from the stream thread's store or an interactive query's. */
    public static List<Version> list(ReadOnlyKeyValueStore<Bytes, byte[]> store, String id) {
        List<Version> out = new ArrayList<>();
        try (KeyValueIterator<Bytes, byte[]> it = store.range(storeKey(id, 0), storeKey(id, Long.MAX_VALUE))) {
            while (it.hasNext()) {
                KeyValue<Bytes, byte[]> kv = it.next();
                out.add(decode(id, kv.key, kv.value));
            }
        }
        return out;
    }

    /** The model ids in the store, each once, in store order. */
    public static List<String> ids(ReadOnlyKeyValueStore<Bytes, byte[]> store) {
        List<String> out = new ArrayList<>();
        try (KeyValueIterator<Bytes, byte[]> it = store.all()) {
            String last = null;
            while (it.hasNext()) {
                ByteBuffer k = ByteBuffer.wrap(it.next().key.get());
                byte[] id = new byte[k.getInt()];
                k.get(id);
                String s = new String(id, StandardCharsets.UTF_8);
                if (!s.equals(last)) {
                    out.add(s);
                    last = s;
                }
            }
        }
        return out;
    }

    private static Version decode(String id, Bytes key, byte[] value) {
        long version = ByteBuffer.wrap(key.get(), key.get().length - 8, 8).getLong();
        byte[] body = java.util.Arrays.copyOfRange(value, 1, value.length);
        if (value[0] == WEIGHTS) {
            return new Version(version, new TreeMap<>(ModelRecords.decode(id, body).metadata()), true);
        }
        try {
            return new Version(version, JSON.readValue(body, new TypeReference<TreeMap<String, String>>() { }), false);
        } catch (IOException e) {
            throw new IllegalStateException("model " + id + " version " + version + ": unreadable facts", e);
        }
    }

    /** The highest version number the model ever had (0 if none). */
    long highest(String id) {
        long h = 0;
        try (KeyValueIterator<Bytes, byte[]> it = store.reverseRange(storeKey(id, 0), storeKey(id, Long.MAX_VALUE))) {
            if (it.hasNext()) {
                Bytes k = it.next().key;
                h = ByteBuffer.wrap(k.get(), k.get().length - 8, 8).getLong();
            }
        }
        return h;
    }

    /** The facts of one version, or null. */
    Version get(String id, long version) {
        byte[] v = store.get(storeKey(id, version));
        return v == null ? null : decode(id, storeKey(id, version), v);
    }

    /** The full record (weights and facts) of one version if its weights are kept, else null. */
    byte[] weights(String id, long version) {
        byte[] v = store.get(storeKey(id, version));
        return v == null || v[0] != WEIGHTS ? null : java.util.Arrays.copyOfRange(v, 1, v.length);
    }

    /** Keeps a version's full record (weights and facts). */
    void putWeights(String id, long version, byte[] record) {
        byte[] v = new byte[record.length + 1];
        v[0] = WEIGHTS;
        System.arraycopy(record, 0, v, 1, record.length);
        store.put(storeKey(id, version), v);
    }

    /** Keeps a version's facts only. */
    void putFacts(String id, long version, Map<String, String> facts) {
        try {
            byte[] json = JSON.writeValueAsBytes(new TreeMap<>(facts));
            byte[] v = new byte[json.length + 1];
            v[0] = FACTS;
            System.arraycopy(json, 0, v, 1, json.length);
            store.put(storeKey(id, version), v);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Adds one fact to a kept version (weights kept as they are). */
    void addFact(String id, long version, String key, String value) {
        byte[] full = weights(id, version);
        if (full != null) {
            LstmModel m = ModelRecords.decode(id, full);
            m.putMetadata(key, value);
            putWeights(id, version, io.carousel.lstm.Safetensors.toBytes(m, true));
            return;
        }
        Version v = get(id, version);
        if (v != null) {
            Map<String, String> facts = new TreeMap<>(v.facts());
            facts.put(key, value);
            putFacts(id, version, facts);
        }
    }

    /**
     * Drops what is no longer needed once {@code serving} serves: the weights of every version but
     * the {@link #KEEP_WEIGHTS} ancestors of the serving one (whose own weights are in the model
     * store), and the facts of all but the newest {@link #KEEP_VERSIONS} versions.
     */
    void prune(String id, long serving) {
        Set<Long> keep = new HashSet<>();
        Version v = get(id, serving);
        for (int i = 0; i < KEEP_WEIGHTS && v != null && v.previous() > 0; i++) {
            keep.add(v.previous());
            v = get(id, v.previous());
        }
        List<Version> all = list(store, id);
        for (int i = 0; i < all.size(); i++) {
            Version x = all.get(i);
            if (i < all.size() - KEEP_VERSIONS && !keep.contains(x.version())) {
                store.delete(storeKey(id, x.version()));
            } else if (x.hasWeights() && !keep.contains(x.version())) {
                putFacts(id, x.version(), x.facts());
            }
        }
    }
}
