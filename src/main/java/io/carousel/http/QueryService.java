package io.carousel.http;

import io.carousel.streams.CarouselTopology;
import io.carousel.streams.Control;
import io.carousel.streams.ControlChannel;
import io.carousel.streams.History;
import io.carousel.streams.KeyQueries;
import io.carousel.streams.ModelVersions;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.errors.InvalidStateStoreException;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.QueryableStoreTypes;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;

/**
 * The queries behind the HTTP API, over Kafka Streams' interactive queries of this instance's
 * stores; no HTTP type appears here (handlers translate, and forward to the instance that owns a
 * key, see {@link MetadataService}). Every read names the partition it expects to be active here,
 * so a task that moved away during a rebalance fails the read ({@link NotAvailable}) rather than
 * answering from a stale or empty store. Writes never happen here: feedback and rollbacks are
 * sent to the control topic, and the stream task that owns the key applies them.
 */
public final class QueryService {

    /** The store cannot be read here right now (a rebalance moved or is restoring it). */
    public static final class NotAvailable extends RuntimeException {
        public NotAvailable(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /** One page of keys from the partitions listed (the caller checks that every partition answered). */
    public record KeyPage(List<KeyQueries.KeyView> keys, Set<Integer> partitions) { }

    /** A model: its id, the version serving, and its kept versions, oldest first. */
    public record ModelView(String id, long serving, List<ModelVersions.Version> versions) { }

    /** One page of models from the partitions listed. */
    public record ModelPage(List<ModelView> models, Set<Integer> partitions) { }

    /** Whether feedback can apply: the key has an event at that time with the other flag. */
    public enum FeedbackCheck { OK, NO_EVENT, NOT_FLAGGED, ALREADY_FLAGGED }

    /** Whether a rollback can apply, and from which version to which. */
    public record RollbackCheck(boolean possible, long from, long to, String reason) { }

    private final KafkaStreams streams;
    private final KeyQueries queries;
    private final ControlChannel control;
    private final MetadataService metadata;

    public QueryService(KafkaStreams streams, KeyQueries queries, ControlChannel control, MetadataService metadata) {
        this.streams = streams;
        this.queries = queries;
        this.control = control;
        this.metadata = metadata;
    }

    public KeyQueries queries() {
        return queries;
    }

    public boolean perKeyModels() {
        return queries.perKeyModels();
    }

    private <K> ReadOnlyKeyValueStore<K, byte[]> store(String name, int partition) {
        try {
            return streams.store(StoreQueryParameters.<ReadOnlyKeyValueStore<K, byte[]>>fromNameAndType(name,
                    QueryableStoreTypes.keyValueStore()).withPartition(partition));
        } catch (InvalidStateStoreException e) {
            throw new NotAvailable("store " + name + " partition " + partition + " is not available here: " + e.getMessage(), e);
        }
    }

    private byte[] state(String key, int partition) {
        try {
            return this.<String>store(CarouselTopology.KEY_STATE_STORE, partition).get(key);
        } catch (InvalidStateStoreException e) {
            throw new NotAvailable("the key's store is not available here: " + e.getMessage(), e);
        }
    }

    public Optional<KeyQueries.KeyView> key(String key, int partition) {
        byte[] s = state(key, partition);
        return s == null ? Optional.empty() : Optional.of(queries.view(key, s));
    }

    public Optional<KeyQueries.Rollout> forecast(String key, int partition, int horizon) {
        byte[] s = state(key, partition);
        if (s == null) {
            return Optional.empty();
        }
        byte[] model;
        if (perKeyModels()) {
            model = this.<String>store(CarouselTopology.MODEL_STORE, partition).get(key);
        } else {
            String group = KeyQueries.group(s);
            model = group == null ? null : globalModels().get(group);
        }
        ReadOnlyKeyValueStore<Bytes, byte[]> history = store(CarouselTopology.HISTORY_STORE, partition);
        return Optional.of(queries.rollout(key, s, model, () -> queries.history(history, key, s, Long.MIN_VALUE), horizon));
    }

    /** The key's recent events (value, forecast band, flag), after {@code since}, at most the newest {@code limit}. */
    public Optional<List<History.Event>> series(String key, int partition, long since, int limit) {
        byte[] s = state(key, partition);
        if (s == null) {
            return Optional.empty();
        }
        List<History.Event> events = queries.history(this.<Bytes>store(CarouselTopology.HISTORY_STORE, partition), key, s, since);
        return Optional.of(events.size() > limit ? events.subList(events.size() - limit, events.size()) : events);
    }

    /**
     * This instance's keys (its active partitions), in key order after {@code after}, starting with
     * {@code prefix}, only anomalous ones if asked, at most {@code limit}.
     */
    public KeyPage localKeys(String prefix, boolean anomalousOnly, String after, int limit) {
        Set<Integer> partitions = new TreeSet<>(metadata.localPartitions());
        List<KeyQueries.KeyView> found = new ArrayList<>();
        String from = after != null && compare(after, prefix) > 0 ? after : prefix;
        for (int p : partitions) {
            ReadOnlyKeyValueStore<String, byte[]> store = store(CarouselTopology.KEY_STATE_STORE, p);
            int taken = 0;
            try (KeyValueIterator<String, byte[]> it = store.range(from.isEmpty() ? null : from, null)) {
                while (it.hasNext() && taken < limit) {
                    KeyValue<String, byte[]> kv = it.next();
                    if (!kv.key.startsWith(prefix)) {
                        break;
                    }
                    if (after != null && compare(kv.key, after) <= 0) {
                        continue;
                    }
                    KeyQueries.KeyView v = queries.view(kv.key, kv.value);
                    if (!anomalousOnly || v.anomalous()) {
                        found.add(v);
                        taken++;
                    }
                }
            } catch (InvalidStateStoreException e) {
                throw new NotAvailable("partition " + p + " moved during the query", e);
            }
        }
        found.sort(Comparator.comparing(KeyQueries.KeyView::key, QueryService::compare));
        return new KeyPage(found.size() > limit ? found.subList(0, limit) : found, partitions);
    }

    /** This instance's trained per-key models, in id order after {@code after}, at most {@code limit}. */
    public ModelPage localModels(String prefix, String after, int limit) {
        Set<Integer> partitions = new TreeSet<>(metadata.localPartitions());
        List<ModelView> found = new ArrayList<>();
        for (int p : partitions) {
            ReadOnlyKeyValueStore<Bytes, byte[]> versions = store(CarouselTopology.MODEL_VERSIONS_STORE, p);
            ReadOnlyKeyValueStore<String, byte[]> states = store(CarouselTopology.KEY_STATE_STORE, p);
            int taken = 0;
            for (String id : ModelVersions.ids(versions)) {
                if (taken >= limit) {
                    break;
                }
                if (!id.startsWith(prefix) || (after != null && compare(id, after) <= 0)) {
                    continue;
                }
                found.add(view(id, versions, states.get(id)));
                taken++;
            }
        }
        found.sort(Comparator.comparing(ModelView::id, QueryService::compare));
        return new ModelPage(found.size() > limit ? found.subList(0, limit) : found, partitions);
    }

    /** The group models every instance serves (model.scope=group or global), from the global store. */
    private ReadOnlyKeyValueStore<String, byte[]> globalModels() {
        try {
            return streams.store(StoreQueryParameters.fromNameAndType(CarouselTopology.GROUP_MODEL_STORE,
                    QueryableStoreTypes.keyValueStore()));
        } catch (InvalidStateStoreException e) {
            throw new NotAvailable("the group model store is not available: " + e.getMessage(), e);
        }
    }

    public List<ModelView> groupModels() {
        ReadOnlyKeyValueStore<String, byte[]> global = globalModels();
        List<ModelView> out = new ArrayList<>();
        try (KeyValueIterator<String, byte[]> it = global.all()) {
            while (it.hasNext()) {
                KeyValue<String, byte[]> kv = it.next();
                out.add(groupView(kv.key, kv.value));
            }
        }
        out.sort(Comparator.comparing(ModelView::id, QueryService::compare));
        return out;
    }

    /** One group model as every instance serves it (model.scope=group or global), from the global store. */
    public Optional<ModelView> groupModel(String id) {
        byte[] record = globalModels().get(id);
        if (record == null) {
            return Optional.empty();
        }
        return Optional.of(groupView(id, record));
    }

    private static ModelView groupView(String id, byte[] record) {
        long version = KeyQueries.version(id, record);
        return new ModelView(id, version, List.of(new ModelVersions.Version(version,
                new java.util.TreeMap<>(KeyQueries.facts(id, record)), true)));
    }

    /** Waits until this instance's global store serves a version of the group above {@code above}; false on timeout. */
    public boolean awaitGroupVersion(String id, long above, Duration timeout) throws InterruptedException {
        // while the global store is being restored, keep looking until the deadline
        return await(timeout, () -> groupModel(id).map(m -> m.serving() > above).orElse(false));
    }

    public Optional<ModelView> model(String id, int partition) {
        ReadOnlyKeyValueStore<Bytes, byte[]> versions = store(CarouselTopology.MODEL_VERSIONS_STORE, partition);
        byte[] state = state(id, partition);
        List<ModelVersions.Version> list = ModelVersions.list(versions, id);
        if (state == null && list.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(view(id, versions, state));
    }

    private ModelView view(String id, ReadOnlyKeyValueStore<Bytes, byte[]> versions, byte[] state) {
        long serving = state == null ? queries.initialVersion() : queries.view(id, state).modelVersion();
        return new ModelView(id, serving, ModelVersions.list(versions, id));
    }

    public FeedbackCheck checkFeedback(String key, int partition, long timestamp, boolean anomaly) {
        byte[] s = state(key, partition);
        if (s == null) {
            return FeedbackCheck.NO_EVENT;
        }
        boolean seen = false;
        for (History.Event e : queries.history(this.<Bytes>store(CarouselTopology.HISTORY_STORE, partition), key, s, Long.MIN_VALUE)) {
            if (e.timestamp() == timestamp) {
                seen = true;
                if (e.anomaly() != anomaly) {
                    return FeedbackCheck.OK;
                }
            }
        }
        return !seen ? FeedbackCheck.NO_EVENT : anomaly ? FeedbackCheck.ALREADY_FLAGGED : FeedbackCheck.NOT_FLAGGED;
    }

    /** Whether the model can go back a version: it serves a trained one whose previous is the initial model or kept. */
    public RollbackCheck checkRollback(String id, int partition) {
        Optional<ModelView> m = model(id, partition);
        if (m.isEmpty()) {
            return new RollbackCheck(false, -1, -1, "no model " + id);
        }
        long serving = m.get().serving();
        if (serving <= queries.initialVersion()) {
            return new RollbackCheck(false, serving, -1, "model " + id + " serves its initial version " + serving
                    + "; there is nothing to roll back to");
        }
        ModelVersions.Version current = m.get().versions().stream().filter(v -> v.version() == serving).findFirst().orElse(null);
        long previous = current == null ? -1 : current.previous();
        if (previous <= queries.initialVersion()) {
            return new RollbackCheck(true, serving, queries.initialVersion(), null);
        }
        boolean kept = m.get().versions().stream().anyMatch(v -> v.version() == previous && v.hasWeights());
        return kept ? new RollbackCheck(true, serving, previous, null)
                : new RollbackCheck(false, serving, previous, "the weights of version " + previous + " are no longer kept");
    }

    /** Sends a request to the key's task; returns its offset. */
    public long send(String key, int partition, Control c) {
        return control.send(key, partition, c);
    }

    /** Waits until the key's task has applied the control record at {@code offset}; false on timeout. */
    public boolean awaitApplied(String key, int partition, long offset, Duration timeout) throws InterruptedException {
        // during a rebalance the record is applied where the task goes; keep looking until the deadline
        return await(timeout, () -> {
            byte[] s = state(key, partition);
            return s != null && KeyQueries.controlOffset(s) >= offset;
        });
    }

    /** A condition on this instance's stores, which may be unavailable for a while. */
    private interface Condition {
        boolean holds() throws NotAvailable;
    }

    /** Polls {@code c} every 25 ms until it holds (true) or the timeout passes (false); unavailable counts as not yet. */
    private static boolean await(Duration timeout, Condition c) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            try {
                if (c.holds()) {
                    return true;
                }
            } catch (NotAvailable e) {
                // not yet
            }
            Thread.sleep(25);
        }
        return false;
    }

    /** UTF-8 byte order: the order of the stores' keys, and so of pages across instances. */
    static int compare(String a, String b) {
        return Arrays.compareUnsigned(a.getBytes(StandardCharsets.UTF_8), b.getBytes(StandardCharsets.UTF_8));
    }

    /** Entries of one of the key-partitioned stores over this instance's active tasks, as RocksDB estimates them, for metrics. */
    public long storeEntries(String name) {
        long n = 0;
        for (int p : metadata.localPartitions()) {
            try {
                n += this.<Object>store(name, p).approximateNumEntries();
            } catch (NotAvailable | InvalidStateStoreException e) {
                // moving: counted where it lands
            }
        }
        return n;
    }

    /**
     * The keys held by this instance's active tasks, counted (RocksDB's estimate counts every
     * overwrite still in a memtable, and a key's state is overwritten at each of its events).
     */
    public long keyCount() {
        long n = 0;
        for (int p : metadata.localPartitions()) {
            try (KeyValueIterator<String, byte[]> it = this.<String>store(CarouselTopology.KEY_STATE_STORE, p).all()) {
                while (it.hasNext()) {
                    it.next();
                    n++;
                }
            } catch (NotAvailable | InvalidStateStoreException e) {
                // moving: counted where it lands
            }
        }
        return n;
    }

    /** The key-partitioned stores, for metrics. */
    public static final List<String> STORES = List.of(CarouselTopology.KEY_STATE_STORE, CarouselTopology.HISTORY_STORE,
            CarouselTopology.MODEL_STORE, CarouselTopology.MODEL_VERSIONS_STORE);
}
