package io.carousel.streams;

import io.carousel.lstm.LstmModel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.HashSet;
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
 * The per-key step: reads the key's state, runs {@link KeyForecaster}, appends the event to the
 * key's history, writes the state back and emits the outputs; schedules the key's model for
 * retraining when it is due (by events, by time, or on drift) and applies finished trainings.
 *
 * <p>One instance per task. Stores are only ever written here, on the task's stream thread:
 * trainers work on copies and hand results back through a queue that this thread drains (at
 * each event and from a wall-clock punctuator). A result that arrives after the task closed is
 * dropped: the key stays due and trains again; so is one trained from a version that no longer
 * serves (a rollback came first).
 *
 * <p>Requests from the HTTP API arrive the same way as events, as {@link Control} records on the
 * control topic, merged into this processor's input: feedback on an event (its history flag, the
 * key's threshold and counters change) and model rollbacks (the previous version serves again).
 * Each applied request leaves its offset in the key's state, which is how the API knows it is done.
 */
final class ForecastProcessor implements Processor<byte[], Routed, byte[], Emitted> {

    private static final Logger LOG = LoggerFactory.getLogger(ForecastProcessor.class);
    private static final int MODEL_CACHE = 1024;

    private final StreamSettings settings;
    private final RetrainSettings retrain;
    private final ModelSource models;
    private final Trainers trainers;
    private final GroupModels groupModels;
    private final boolean grouped;
    private final Telemetry telemetry;
    private final Set<String> reported = new HashSet<>();
    private ModelVersions versions;
    private KeyValueStore<String, byte[]> groupStore;
    private KeyValueStore<String, byte[]> store;
    private KeyValueStore<String, byte[]> modelStore;
    private History history;
    private ProcessorContext<byte[], Emitted> context;
    private KeyForecaster forecaster;
    private OutputWriter writer;
    private Served initial;
    private final Outcome outcome = new Outcome();
    /** The key state an event is processed in, read into again at the next event. */
    private KeyState eventState;
    /** The seasonal value for a key's next event, and the seasonal roll-out's window (scratch). */
    private double[] seasonal;
    private double[] seasonWindow;
    private final Map<String, Served> cache = new LinkedHashMap<>(64, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Served> eldest) {
            return size() > MODEL_CACHE;
        }
    };
    private final Set<String> pending = new HashSet<>();
    /** Replaced at each init: results of trainings submitted before a revive land in the old queue. */
    private ConcurrentLinkedQueue<Retrainer.Result> finished = new ConcurrentLinkedQueue<>();
    private volatile boolean closed;

    ForecastProcessor(StreamSettings settings, ModelSource models, Trainers trainers, GroupModels groupModels) {
        this(settings, models, trainers, groupModels, Telemetry.NONE);
    }

    ForecastProcessor(StreamSettings settings, ModelSource models, Trainers trainers, GroupModels groupModels,
                      Telemetry telemetry) {
        this.settings = settings;
        this.telemetry = telemetry;
        this.groupModels = groupModels;
        this.grouped = settings.scope() != StreamSettings.Scope.KEY;
        this.retrain = settings.retrain();
        this.models = models;
        this.trainers = trainers;
    }

    @Override
    public void init(ProcessorContext<byte[], Emitted> context) {
        // Kafka Streams calls init again on this same instance when it revives a task (closed dirty
        // after a TaskCorruptedException, e.g. a commit timeout under exactly_once_v2, its stores
        // wiped and restored to the last commit): nothing held in memory may outlive that. A model
        // cached or applied in the aborted transaction would serve keys whose restored state has an
        // older version; and with closed still set and the keys still pending, no training of this
        // task would ever be applied again.
        closed = false;
        finished = new ConcurrentLinkedQueue<>();
        pending.clear();
        cache.clear();
        this.context = context;
        this.store = context.getStateStore(CarouselTopology.KEY_STATE_STORE);
        this.modelStore = context.getStateStore(CarouselTopology.MODEL_STORE);
        this.versions = new ModelVersions(context.getStateStore(CarouselTopology.MODEL_VERSIONS_STORE));
        KeyValueStore<Bytes, byte[]> h = context.getStateStore(CarouselTopology.HISTORY_STORE);
        this.history = new History(h, retrain.historyMaxEvents(), retrain.historyRetentionMs());
        this.forecaster = new KeyForecaster(settings, models.model(), models.version());
        this.initial = forecaster.served();
        this.writer = new OutputWriter(settings);
        this.seasonal = new double[settings.outputs()];
        this.seasonWindow = new double[settings.horizon() * settings.outputs()];
        if (grouped) {
            this.groupStore = context.getStateStore(CarouselTopology.GROUP_MODEL_STORE);
        }
        if (!trainers.synchronous() && !grouped) {
            context.schedule(Duration.ofMillis(200), PunctuationType.WALL_CLOCK_TIME, t -> applyFinished());
        }
        if (retrain.intervalMs() > 0 && retrain.wallClock()) {
            long every = Math.max(1000, retrain.intervalMs() / 4);
            context.schedule(Duration.ofMillis(every), PunctuationType.WALL_CLOCK_TIME, this::scheduleByTime);
        }
    }

    @Override
    public void process(Record<byte[], Routed> record) {
        applyFinished();
        if (record.value().control() != null) {
            control(new String(record.key(), StandardCharsets.UTF_8), record.value().control(), record.timestamp());
            return;
        }
        ParsedEvent e = record.value().event();
        String key = e.key();
        byte[] bytes = store.get(key);
        // the state lives only within this call (it is written back below): its arrays are reused
        KeyState k = bytes == null ? forecaster.newState() : (eventState = KeyState.deserialise(bytes, eventState));
        if (k.count > 0 && e.timestamp() < k.lastTimestamp && settings.outOfOrderToDeadLetter()) {
            Record<byte[], Emitted> out = record.withValue(new Emitted(settings.deadLetterTopic(), e.original()));
            Rejection r = new Rejection(Rejection.Reason.OUT_OF_ORDER, "event time " + e.timestamp()
                    + " is before the key's last event time " + k.lastTimestamp + " (events.out-of-order=dead-letter)");
            DeadLetters.annotate(out.headers(), r, context.recordMetadata().orElse(null));
            context.forward(out, CarouselTopology.OUTPUTS);
            telemetry.deadLettered(r.reason().name());
            return;
        }
        Served served = grouped ? groupServed(e.group()) : servedFor(key, k);
        if (grouped && served.version() != k.modelVersion && served.version() > models.version()) {
            // the group has a new version: re-warm this key under it before it serves the key
            forecaster.rewarm(k, history.read(key, k.lastTimestamp), served, ModelRecords.valLoss(served.model()));
        }
        forecaster.use(served);
        long seq = k.count;
        // the record's key is the series key's UTF-8 bytes (the parse step keyed it so)
        byte[] keyBytes = record.key();
        // with a season, the value one season before the next event (event seq + 1) is in the history
        boolean seasonalAtHand = k.season > 0 && settings.seasonal()
                && history.targets(keyBytes, seq + 1 - k.season, seasonal, settings.outputs());
        forecaster.process(k, e.timestamp(), e.features(), seasonalAtHand ? seasonal : null, outcome);
        history.append(keyBytes, seq, e.timestamp(), outcome.anomaly, e.features(), outcome.forecast(0), outcome.expectedHalfWidth);
        if (outcome.source == KeyState.SEASONAL && settings.horizon() > 1) {
            // the seasonal roll-out: the same phase in the last season, events seq + 1 - L on (this one included)
            int rows = Math.min(settings.horizon(), k.season);
            int found = history.targets(keyBytes, seq + 1 - k.season, rows, seasonWindow, settings.outputs());
            KeyForecaster.seasonalRollOut(k.season, settings.outputs(), seasonWindow, found, outcome.horizon, settings.horizon());
        }
        k.group = e.group();
        if (outcome.anomaly) {
            k.anomalies++;
            k.lastAnomalyAt = e.timestamp();
            k.lastAnomalyCount = k.count;
        }
        store.put(key, k.serialise());
        String model = grouped ? e.group() : key;
        if (telemetry.processed(model, served.version(), Math.abs(outcome.error[0]), outcome.anomaly)) {
            reported.add(model); // its meters are dropped when this task closes
        }
        context.forward(record.withValue(new Emitted(settings.enrichedTopic(), writer.enriched(e, outcome))), CarouselTopology.OUTPUTS);
        context.forward(record.withValue(new Emitted(settings.forecastsTopic(), writer.forecast(key, outcome))), CarouselTopology.OUTPUTS);
        if (outcome.anomaly) {
            context.forward(record.withValue(new Emitted(settings.anomaliesTopic(), writer.anomaly(key, e, outcome))),
                    CarouselTopology.OUTPUTS);
        }
        if (grouped) {
            byte[] sample = GroupTrainer.sample(keyBytes, e.timestamp(), outcome.anomaly, forecaster.lastInput());
            context.forward(record.withKey(e.group().getBytes(StandardCharsets.UTF_8)).withValue(Emitted.sample(sample)),
                    CarouselTopology.SAMPLES);
            return; // group models train where the group's samples meet (GroupTrainer)
        }
        if (dueByEvents(k) || dueByStreamTime(k) || (outcome.drift && driftMayRetrain(k))) {
            schedule(key, k, outcome.drift ? "drift" : "schedule");
        }
    }

    /**
     * After a rejected training, drift retrains again only once the held-out part of the key's
     * history (the newest fifth, on which candidates are judged) is all events that attempt had not
     * seen: sooner, the candidate would be judged on mostly the same events, and fail the same way.
     */
    private boolean driftMayRetrain(KeyState k) {
        if (!k.lastAttemptRejected) {
            return true;
        }
        return k.eventsSinceTrain >= Retrainer.holdoutRows(Math.min(k.count, retrain.historyMaxEvents()), retrain.seqLen());
    }

    private boolean dueByEvents(KeyState k) {
        return retrain.everyEvents() > 0 && k.eventsSinceTrain >= retrain.everyEvents() && k.count >= retrain.minEvents();
    }

    /**
     * retrain.interval in stream time: the key's own event time, checked at its events (Kafka's
     * stream-time punctuation follows record timestamps, which need not be the events' times).
     */
    private boolean dueByStreamTime(KeyState k) {
        return retrain.intervalMs() > 0 && !retrain.wallClock() && k.count >= retrain.minEvents()
                && k.lastTimestamp - k.lastTrainedAt >= retrain.intervalMs();
    }

    /** The key's model: its own trained one (cached, else from the model store), or the initial one. */
    private Served servedFor(String key, KeyState k) {
        if (k.modelVersion <= models.version()) {
            return initial;
        }
        Served s = cache.get(key);
        if (s == null) {
            byte[] m = modelStore.get(key);
            if (m == null) {
                return initial; // the model was lost (should not happen): serve the initial one
            }
            LstmModel model = ModelRecords.decode(key, m);
            s = Served.of(model, ModelRecords.version(model), settings);
            cache.put(key, s);
        }
        return s;
    }

    /** The group's newest model as this thread serves it (reloaded from the global store when the version moves). */
    private Served groupServed(String group) {
        Served s = cache.get(group);
        long newest = groupModels.version(group);
        if (s == null || newest > s.version()) {
            // first sight of the group on this thread (the store is restored by then), or a newer version
            byte[] m = groupStore.get(group);
            if (m == null) {
                s = initial;
            } else {
                LstmModel model = ModelRecords.decode(group, m);
                s = Served.of(model, ModelRecords.version(model), settings);
            }
            cache.put(group, s);
        }
        return s;
    }

    /** Snapshots the key's history and hands a training job to the trainers. */
    private void schedule(String key, KeyState k, String why) {
        if (!pending.add(key)) {
            return;
        }
        LOG.debug("retraining the model of key {} (version {}, due by {})", key, k.modelVersion, why);
        List<History.Event> events = history.read(key, k.lastTimestamp);
        double[] series = forecaster.trainingSeries(k, events, retrain.excludeAnomalies());
        int rows = series.length / settings.modelInputs();
        if (rows < retrain.minEvents()) {
            pending.remove(key);
            return;
        }
        Served serving = servedFor(key, k);
        LstmModel start = retrain.scratch() || !serving.trained()
                ? LstmModel.init(serving.model().shape(), settings.seed() + serving.version() + 1)
                : serving.model().copy();
        Retrainer.Job job = new Retrainer.Job(key, start, serving.model().copy(), serving.version(), series, new int[] {rows},
                events.get(0).timestamp(), events.get(events.size() - 1).timestamp(),
                retrain.wallClock() ? context.currentSystemTimeMs() : k.lastTimestamp, settings.changeTarget());
        ConcurrentLinkedQueue<Retrainer.Result> results = finished;
        telemetry.retrainStarted(key);
        trainers.submit(job, result -> {
            telemetry.retrainFinished(key, result.accepted(), result.nanos());
            if (!closed) {
                results.add(result);
            }
        });
        if (trainers.synchronous()) {
            applyFinished();
        }
    }

    /** Applies finished trainings: validated weights become the key's new version, its state re-warmed. */
    private void applyFinished() {
        Retrainer.Result r;
        while ((r = finished.poll()) != null) {
            String key = r.job().modelId();
            pending.remove(key);
            byte[] bytes = store.get(key);
            if (bytes == null) {
                continue;
            }
            KeyState k = KeyState.deserialise(bytes);
            if (r.job().servingVersion() != servedFor(key, k).version()) {
                LOG.info("dropped a model trained for key {} from version {}: version {} serves now", key,
                        r.job().servingVersion(), servedFor(key, k).version());
                continue;
            }
            k.lastTrainedAt = r.job().now(); // the last attempt: a rejected one waits a full period too
            if (!r.accepted()) {
                LOG.info("rejected a retrained model for key {}: {}", key, r.reason());
                k.eventsSinceTrain = 0;
                k.driftSum = 0;
                k.driftMin = 0;
                k.lastAttemptRejected = true;
                if (r.job().servingTrained() && Double.isFinite(r.servingValLoss()) && r.servingValLoss() > k.trainMse) {
                    // the drift test's reference becomes the serving model's error on the newest data, just
                    // measured: else an error that stays at its new level raises the alarm again within a
                    // few events, and the key retrains without end while nothing better can be learnt yet
                    k.trainMse = r.servingValLoss();
                }
                store.put(key, k.serialise());
                continue;
            }
            // versions only grow, also past versions that a rollback stopped serving
            long version = Math.max(Math.max(k.modelVersion, models.version()), versions.highest(key)) + 1;
            byte[] record = ModelRecords.encode(r, version);
            byte[] superseded = modelStore.get(key);
            if (superseded != null) {
                versions.putWeights(key, r.job().servingVersion(), superseded);
            }
            Served s = Served.of(ModelRecords.decode(key, record), version, settings);
            versions.putFacts(key, version, s.model().metadata());
            versions.prune(key, version);
            modelStore.put(key, record);
            cache.put(key, s);
            forecaster.rewarm(k, history.read(key, k.lastTimestamp), s, r.valLoss());
            store.put(key, k.serialise());
            telemetry.serving(key, version);
            LOG.info("key {} now serves model version {} (validation MSE {} vs {} before, {} ms)", key, version,
                    r.valLoss(), r.servingValLoss(), r.nanos() / 1_000_000);
        }
    }

    /**
     * retrain.interval in wall-clock time: schedules every key whose last training attempt is older
     * than the interval (a scan of the task's keys, every quarter interval).
     */
    private void scheduleByTime(long now) {
        applyFinished();
        try (KeyValueIterator<String, byte[]> it = store.all()) {
            while (it.hasNext()) {
                KeyValue<String, byte[]> kv = it.next();
                KeyState k = KeyState.deserialise(kv.value);
                if (now - k.lastTrainedAt >= retrain.intervalMs() && k.count >= retrain.minEvents() && k.eventsSinceTrain > 0) {
                    schedule(kv.key, k, "time");
                }
            }
        }
    }

    /** A request from the control topic; the key's state records its offset once applied (or refused). */
    private void control(String key, Control c, long recordTime) {
        if (grouped && c.type() == Control.Type.ROLLBACK) {
            // the key is a group: its model is rolled back where it is trained, reached the way its samples go
            byte[] group = key.getBytes(StandardCharsets.UTF_8);
            context.forward(new Record<>(group, Emitted.sample(GroupTrainer.ROLLBACK), recordTime), CarouselTopology.SAMPLES);
            return;
        }
        long offset = context.recordMetadata().map(m -> m.offset()).orElse(-1L);
        byte[] bytes = store.get(key);
        if (bytes == null) {
            LOG.info("ignored a {} request for key {}: the key has no state here", c.type(), key);
            return;
        }
        KeyState k = KeyState.deserialise(bytes);
        switch (c.type()) {
            case FEEDBACK -> feedback(key, k, c);
            case ROLLBACK -> rollback(key, k);
        }
        k.lastControlOffset = Math.max(k.lastControlOffset, offset);
        store.put(key, k.serialise());
    }

    /**
     * Feedback on the key's event at {@code c.timestamp()}: {@code anomaly=false} on a flagged event
     * (a false positive) clears its flag, so it trains the model again, and raises the key's
     * threshold; {@code anomaly=true} on an unflagged one (a missed anomaly) flags it, leaving it out
     * of training, and lowers the threshold. Feedback that matches no such event changes nothing.
     */
    private void feedback(String key, KeyState k, Control c) {
        History.Event e = history.mark(key, c.timestamp(), c.anomaly());
        if (e == null) {
            LOG.info("ignored feedback on key {} at {}: no {} event there", key, c.timestamp(),
                    c.anomaly() ? "unflagged" : "flagged");
            return;
        }
        forecaster.feedback(k, !c.anomaly());
        if (c.anomaly()) {
            k.missedAnomalies++;
            k.anomalies++;
        } else {
            k.falsePositives++;
            k.anomalies = Math.max(0, k.anomalies - 1);
        }
        History.Event latest = history.latestAnomaly(key);
        k.lastAnomalyAt = latest == null ? -1 : latest.timestamp();
        k.lastAnomalyCount = latest == null ? 0 : latest.seq() + 1;
    }

    /**
     * Serves the key's previous model version again: the version that served before the current
     * one (its weights are kept in the versions store), or the initial model. The version number
     * goes back too, so the outputs say which weights made them; versions trained later continue
     * from the highest number ever used. The key's h and c are re-warmed under the restored weights.
     */
    private void rollback(String key, KeyState k) {
        Served current = servedFor(key, k);
        if (current.version() <= models.version()) {
            LOG.info("ignored a rollback of key {}: it serves its initial model", key);
            return;
        }
        long previous = Long.parseLong(current.model().metadata().getOrDefault(ModelRecords.PREVIOUS, "-1"));
        Served restored;
        double valLoss;
        if (previous <= models.version()) {
            modelStore.delete(key);
            cache.remove(key);
            restored = initial;
            valLoss = Double.NaN;
        } else {
            byte[] record = versions.weights(key, previous);
            if (record == null) {
                LOG.info("ignored a rollback of key {}: the weights of version {} are no longer kept", key, previous);
                return;
            }
            modelStore.put(key, record);
            restored = Served.of(ModelRecords.decode(key, record), previous, settings);
            cache.put(key, restored);
            valLoss = ModelRecords.valLoss(restored.model());
        }
        versions.addFact(key, current.version(), ModelVersions.ROLLED_BACK_AT, Long.toString(context.currentSystemTimeMs()));
        versions.prune(key, restored.version());
        forecaster.rewarm(k, history.read(key, k.lastTimestamp), restored, valLoss);
        pending.remove(key);
        LOG.info("key {} rolled back from model version {} to {}", key, current.version(), restored.version());
        telemetry.serving(key, restored.version());
    }

    @Override
    public void close() {
        closed = true;
        finished.clear();
        reported.forEach(telemetry::forget);
    }
}
