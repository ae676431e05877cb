package io.carousel.streams;

import io.carousel.lstm.LstmModel;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Trains group models where a group's samples meet: the samples are repartitioned by group, so
 * each group is trained by exactly one task. A group keeps its last {@code 4 x history.max-events}
 * samples (each a key's model-input row, normalised by that key's own statistics); training cuts
 * windows within each key's run of samples, never across keys, and pools them. A validated model
 * goes to the compacted models topic, from which every instance serves it.
 *
 * <p>A rollback of a group model arrives here too, as an empty sample (see {@link #ROLLBACK}): the
 * previous version's weights, kept in this task's versions store, are published again under the
 * next version number (instances serve the newest version of the topic, so numbers only grow).
 */
final class GroupTrainer implements Processor<byte[], byte[], String, byte[]> {

    private static final Logger LOG = LoggerFactory.getLogger(GroupTrainer.class);

    /** The sample that asks for a rollback of its group's model (a real sample is never empty). */
    static final byte[] ROLLBACK = new byte[0];

    private final StreamSettings settings;
    private final RetrainSettings retrain;
    private final ModelSource models;
    private final Trainers trainers;
    private final int capacity;
    private KeyValueStore<Bytes, byte[]> samples;
    private KeyValueStore<String, byte[]> groups;
    private KeyValueStore<String, byte[]> published;
    private ModelVersions versions;
    private ProcessorContext<String, byte[]> context;
    private final Set<String> pending = new HashSet<>();
    /** What this task published last per group (its record): the global store may not have read it back yet. */
    private final Map<String, byte[]> lastPublished = new java.util.HashMap<>();
    /** Replaced at each init: results of trainings submitted before a revive land in the old queue. */
    private ConcurrentLinkedQueue<Retrainer.Result> finished = new ConcurrentLinkedQueue<>();
    private volatile boolean closed;

    private final Telemetry telemetry;

    GroupTrainer(StreamSettings settings, ModelSource models, Trainers trainers) {
        this(settings, models, trainers, Telemetry.NONE);
    }

    GroupTrainer(StreamSettings settings, ModelSource models, Trainers trainers, Telemetry telemetry) {
        this.telemetry = telemetry;
        this.settings = settings;
        this.retrain = settings.retrain();
        this.models = models;
        this.trainers = trainers;
        this.capacity = 4 * retrain.historyMaxEvents();
    }

    /** A sample: the key (its UTF-8 bytes), event time, anomaly flag and the model-input row. */
    static byte[] sample(byte[] k, long ts, boolean anomaly, double[] row) {
        ByteBuffer b = ByteBuffer.allocate(4 + k.length + 8 + 1 + 8 * row.length);
        b.putInt(k.length).put(k).putLong(ts).put((byte) (anomaly ? 1 : 0));
        for (double v : row) {
            b.putDouble(v);
        }
        return b.array();
    }

    @Override
    public void init(ProcessorContext<String, byte[]> context) {
        // init runs again on this instance when Kafka Streams revives the task (see ForecastProcessor.init):
        // trainings submitted before it are dropped (their results land in the old queue), so none is pending
        closed = false;
        finished = new ConcurrentLinkedQueue<>();
        pending.clear();
        this.context = context;
        samples = context.getStateStore(CarouselTopology.GROUP_HISTORY_STORE);
        groups = context.getStateStore(CarouselTopology.GROUP_STATE_STORE);
        published = context.getStateStore(CarouselTopology.GROUP_MODEL_STORE);
        versions = new ModelVersions(context.getStateStore(CarouselTopology.GROUP_VERSIONS_STORE));
        if (!trainers.synchronous()) {
            context.schedule(Duration.ofMillis(200), PunctuationType.WALL_CLOCK_TIME, t -> applyFinished());
        }
    }

    @Override
    public void process(Record<byte[], byte[]> record) {
        applyFinished();
        String group = new String(record.key(), StandardCharsets.UTF_8);
        if (record.value().length == 0) {
            rollback(group);
            return;
        }
        byte[] g = groups.get(group);
        ByteBuffer st = g == null ? ByteBuffer.allocate(24) : ByteBuffer.wrap(g);
        long seq = st.getLong(0);
        long since = st.getLong(8) + 1;
        long lastTrainedAt = st.getLong(16);
        samples.put(sampleKey(group, seq), record.value());
        if (seq >= capacity) {
            samples.delete(sampleKey(group, seq - capacity));
        }
        ByteBuffer sample = ByteBuffer.wrap(record.value());
        long ts = sample.getLong(4 + sample.getInt(0)); // after the key's length and bytes
        boolean due = (retrain.everyEvents() > 0 && since >= retrain.everyEvents())
                || (retrain.intervalMs() > 0 && ts - lastTrainedAt >= retrain.intervalMs());
        if (due && seq + 1 >= retrain.minEvents() && !pending.contains(group)) {
            since = 0;
            lastTrainedAt = ts;
            schedule(group, ts);
        }
        groups.put(group, ByteBuffer.allocate(24).putLong(seq + 1).putLong(since).putLong(lastTrainedAt).array());
    }

    private static Bytes sampleKey(String group, long seq) {
        return History.storeKey(group.getBytes(StandardCharsets.UTF_8), seq);
    }

    private void schedule(String group, long now) {
        Map<String, List<double[]>> byKey = new LinkedHashMap<>();
        long first = Long.MAX_VALUE;
        long last = Long.MIN_VALUE;
        try (KeyValueIterator<Bytes, byte[]> it = samples.range(sampleKey(group, 0), sampleKey(group, Long.MAX_VALUE))) {
            while (it.hasNext()) {
                ByteBuffer b = ByteBuffer.wrap(it.next().value);
                byte[] k = new byte[b.getInt()];
                b.get(k);
                long ts = b.getLong();
                boolean anomaly = b.get() == 1;
                if (anomaly && retrain.excludeAnomalies()) {
                    continue;
                }
                double[] row = new double[b.remaining() / 8];
                for (int i = 0; i < row.length; i++) {
                    row[i] = b.getDouble();
                }
                byKey.computeIfAbsent(new String(k, StandardCharsets.UTF_8), x -> new ArrayList<>()).add(row);
                first = Math.min(first, ts);
                last = Math.max(last, ts);
            }
        }
        int w = settings.modelInputs();
        int rows = byKey.values().stream().mapToInt(List::size).sum();
        if (rows < retrain.minEvents()) {
            return;
        }
        double[] series = new double[rows * w];
        int[] ends = new int[byKey.size()];
        int r = 0;
        int i = 0;
        for (List<double[]> run : byKey.values()) {
            for (double[] row : run) {
                System.arraycopy(row, 0, series, r++ * w, w);
            }
            ends[i++] = r;
        }
        Served serving = current(group);
        LstmModel start = retrain.scratch() || !serving.trained()
                ? LstmModel.init(serving.model().shape(), settings.seed() + serving.version() + 1)
                : serving.model().copy();
        pending.add(group);
        ConcurrentLinkedQueue<Retrainer.Result> results = finished;
        telemetry.retrainStarted(group);
        trainers.submit(new Retrainer.Job(group, start, serving.model().copy(), serving.version(), series, ends,
                first, last, now, settings.changeTarget()), result -> {
                    telemetry.retrainFinished(group, result.accepted(), result.nanos());
                    if (!closed) {
                        results.add(result);
                    }
                });
        if (trainers.synchronous()) {
            applyFinished();
        }
    }

    /** The group's published model (from the global store, or what this task published since), or the initial one. */
    private Served current(String group) {
        byte[] m = currentRecord(group);
        if (m == null) {
            return new Served(models.model(), null, models.version());
        }
        LstmModel model = ModelRecords.decode(group, m);
        return new Served(model, null, ModelRecords.version(model));
    }

    /** The group's newest published record, or null while it has none. */
    private byte[] currentRecord(String group) {
        byte[] mine = lastPublished.get(group);
        byte[] global = published.get(group);
        if (mine == null || global == null) {
            return mine == null ? global : mine;
        }
        return ModelRecords.version(ModelRecords.decode(group, mine)) > ModelRecords.version(ModelRecords.decode(group, global))
                ? mine : global;
    }

    /**
     * Publishes {@code m} as the group's version {@code version}: the record it supersedes is
     * kept (with the versions before it, up to {@link ModelVersions#KEEP_WEIGHTS}) for rollbacks.
     */
    private void publish(String group, LstmModel m, long version, long rolledBack) {
        byte[] superseded = currentRecord(group);
        if (superseded != null) {
            long old = ModelRecords.version(ModelRecords.decode(group, superseded));
            versions.putWeights(group, old, superseded);
            if (rolledBack >= 0) {
                versions.addFact(group, old, ModelVersions.ROLLED_BACK_AT, Long.toString(rolledBack));
            }
        }
        versions.putFacts(group, version, m.metadata());
        versions.prune(group, version);
        // the versions whose weights this task keeps: every instance's API can tell from the
        // published record whether a rollback has something to return to (the store is here only)
        m.putMetadata(ModelRecords.WEIGHTS_KEPT, ModelVersions.list(versions.store(), group).stream()
                .filter(ModelVersions.Version::hasWeights).map(v -> Long.toString(v.version()))
                .collect(java.util.stream.Collectors.joining(",")));
        byte[] out = io.carousel.lstm.Safetensors.toBytes(m, true);
        lastPublished.put(group, out);
        context.forward(new Record<>(group, out, context.currentStreamTimeMs()));
    }

    /**
     * Serves the group's previous version again (see {@link ModelRecords#restore}); a training in
     * flight, started from the version rolled back, is dropped when it finishes.
     */
    private void rollback(String group) {
        Served current = current(group);
        if (current.version() <= models.version() || !current.trained()) {
            LOG.info("ignored a rollback of group {}: it serves its initial model", group);
            return;
        }
        long previous = Long.parseLong(current.model().metadata().getOrDefault(ModelRecords.PREVIOUS, "0"));
        long version = current.version() + 1;
        long now = context.currentSystemTimeMs();
        LstmModel restored;
        if (previous <= models.version()) {
            restored = ModelRecords.restore(models.model(), models.version(), models.version() == 0, version);
        } else {
            byte[] kept = versions.weights(group, previous);
            if (kept == null) {
                LOG.info("ignored a rollback of group {}: the weights of version {} are no longer kept", group, previous);
                return;
            }
            restored = ModelRecords.restore(ModelRecords.decode(group, kept), previous, false, version);
        }
        publish(group, restored, version, now);
        LOG.info("group {} rolled back from model version {}: version {} serves the weights of version {}", group,
                current.version(), version, previous);
    }

    private void applyFinished() {
        Retrainer.Result r;
        while ((r = finished.poll()) != null) {
            String group = r.job().modelId();
            pending.remove(group);
            if (!r.accepted()) {
                LOG.info("rejected a retrained model for group {}: {}", group, r.reason());
                continue;
            }
            long serving = current(group).version();
            if (r.job().servingVersion() != serving) {
                LOG.info("dropped a model trained for group {} from version {}: version {} serves now (a rollback)",
                        group, r.job().servingVersion(), serving);
                continue;
            }
            long version = Math.max(r.job().servingVersion(), models.version()) + 1;
            publish(group, ModelRecords.stamp(r, version), version, -1);
            LOG.info("group {} model version {} published (validation MSE {} vs {} before)", group, version,
                    r.valLoss(), r.servingValLoss());
        }
    }

    @Override
    public void close() {
        closed = true;
        finished.clear();
    }
}
