package io.carousel.streams;

import java.util.List;
import java.util.Map;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Branched;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.Repartitioned;
import org.apache.kafka.streams.state.Stores;

/**
 * The one place the topology is assembled; {@code run}, {@code backtest} and the tests all call
 * {@link #build}.
 *
 * <pre>
 * events ──────┬─► forecast (parses) [key-state store] ─► enriched, forecasts, anomalies, dead-letter
 * control ─────┘   (feedback and rollbacks from the HTTP API, partitioned like the events)
 *
 * with events.key.field, the events are parsed and repartitioned by that field first:
 * events ─► parse ─bad─► dead-letter
 *             │ repartition by the key field
 *             ▼
 *          forecast [key-state store] ─► enriched, forecasts, anomalies (, dead-letter: out of order)
 *             ▲
 * control ────┘
 *
 * with model.scope=group|global, also:
 * forecast ─samples─► samples-by-group (repartition) ─► group-trainer ─► models ─► [global store, every instance]
 *   (a group rollback travels the same way, as an empty sample)
 * </pre>
 */
public final class CarouselTopology {

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(CarouselTopology.class);

    /** Per-key state: h, c, normalisation, scoring, last forecast (changelogged). */
    public static final String KEY_STATE_STORE = "carousel-key-state";
    public static final String REPARTITION = "events-by-key";
    /** Each key's recent events, for retraining (changelogged). */
    public static final String HISTORY_STORE = "carousel-history";
    /** Each trained model's current version: safetensors bytes with the version facts (changelogged). */
    public static final String MODEL_STORE = "carousel-models";
    /** Per-key models' past versions: their facts, and the weights a rollback can return to (changelogged). */
    public static final String MODEL_VERSIONS_STORE = "carousel-model-versions";
    /** Group models as read from the models topic, on every instance (a global store). */
    public static final String GROUP_MODEL_STORE = "carousel-group-models";
    /** A group's pooled recent samples, in the task that trains the group (changelogged). */
    public static final String GROUP_HISTORY_STORE = "carousel-group-history";
    /** A group's counters: samples seen, since the last training, last training time. */
    public static final String GROUP_STATE_STORE = "carousel-group-state";
    /** A group's past versions, where it is trained: their facts, and the weights a rollback returns to (changelogged). */
    public static final String GROUP_VERSIONS_STORE = "carousel-group-model-versions";
    public static final String SAMPLES_BY_GROUP = "samples-by-group";
    /** The sink of the forecast step's output records, each to the topic it names. */
    static final String OUTPUTS = "outputs";
    /** The forecast step's child that takes group training samples (and group rollbacks) to {@link #SAMPLES_BY_GROUP}. */
    static final String SAMPLES = "samples";
    private static final org.apache.kafka.common.serialization.Serializer<Emitted> EMITTED_BYTES = (topic, e) -> e.value();
    private static final org.apache.kafka.common.serialization.Serde<Emitted> EMITTED = Serdes.serdeFrom(EMITTED_BYTES,
            (topic, bytes) -> {
                throw new UnsupportedOperationException("output records are only written");
            });

    private CarouselTopology() {}

    public static Topology build(StreamSettings s, ModelSource models) {
        return build(s, models, new Trainers(s.retrain()));
    }

    /** The topology, with its forecast processors handing training jobs to {@code trainers}. */
    public static Topology build(StreamSettings s, ModelSource models, Trainers trainers) {
        return build(s, models, trainers, Telemetry.NONE);
    }

    /** The topology, reporting what it does to {@code telemetry}. */
    public static Topology build(StreamSettings s, ModelSource models, Trainers trainers, Telemetry telemetry) {
        StreamsBuilder b = new StreamsBuilder();
        GroupModels groupModels = new GroupModels(telemetry);
        boolean grouped = s.scope() != StreamSettings.Scope.KEY;
        if (grouped) {
            b.addGlobalStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(GROUP_MODEL_STORE),
                            Serdes.String(), Serdes.ByteArray()).withLoggingDisabled(), s.modelsTopic(),
                    Consumed.with(Serdes.String(), Serdes.ByteArray()).withName("models"), groupModels::updater);
            b.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(GROUP_HISTORY_STORE),
                    Serdes.Bytes(), Serdes.ByteArray()));
            b.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(GROUP_STATE_STORE),
                    Serdes.String(), Serdes.ByteArray()));
            b.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(GROUP_VERSIONS_STORE),
                    Serdes.Bytes(), Serdes.ByteArray()));
        }
        b.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(KEY_STATE_STORE),
                Serdes.String(), Serdes.ByteArray()));
        b.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(HISTORY_STORE),
                Serdes.Bytes(), Serdes.ByteArray()));
        b.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(MODEL_STORE),
                Serdes.String(), Serdes.ByteArray()));
        b.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(MODEL_VERSIONS_STORE),
                Serdes.Bytes(), Serdes.ByteArray()));
        String[] forecastStores = {KEY_STATE_STORE, HISTORY_STORE, MODEL_STORE, MODEL_VERSIONS_STORE};
        KStream<byte[], Emitted> out;
        if (s.keyField() == null) {
            // events keyed by their record key need no repartition: one source for both topics, one node
            // that parses and forecasts (every node a record passes costs, see RecordKeyedForecast)
            out = b.stream(List.of(s.eventsTopic(), s.controlTopic()), Consumed.with(Serdes.ByteArray(), Serdes.ByteArray())
                            .withName("events-and-control"))
                    .process(() -> new RecordKeyedForecast(s, new ForecastProcessor(s, models, trainers, groupModels, telemetry),
                            telemetry), Named.as("forecast"), forecastStores);
        } else {
            out = keyedByField(b, s, telemetry).process(() -> new ForecastProcessor(s, models, trainers, groupModels, telemetry),
                    Named.as("forecast"), forecastStores);
        }
        // the forecast step forwards each output to the one node it is for (by name): no filter on the way
        out.to((k, v, ctx) -> v.topic(), Produced.with(Serdes.ByteArray(), EMITTED).withName(OUTPUTS));
        if (grouped) {
            out.mapValues(Emitted::value, Named.as(SAMPLES))
                    .repartition(Repartitioned.with(Serdes.ByteArray(), Serdes.ByteArray()).withName(SAMPLES_BY_GROUP))
                    .process(() -> new GroupTrainer(s, models, trainers, telemetry), Named.as("group-trainer"),
                            GROUP_HISTORY_STORE, GROUP_STATE_STORE, GROUP_VERSIONS_STORE)
                    .to(s.modelsTopic(), Produced.with(Serdes.String(), Serdes.ByteArray()).withName("models-out"));
        }
        return b.build();
    }

    /**
     * Events keyed by a field: parsed, the rejected ones sent to the dead-letter topic, the rest
     * repartitioned by their series key, then merged with the control records.
     */
    private static KStream<byte[], Routed> keyedByField(StreamsBuilder b, StreamSettings s, Telemetry telemetry) {
        KStream<byte[], Routed> parsed = b.stream(s.eventsTopic(), Consumed.with(Serdes.ByteArray(), Serdes.ByteArray())
                        .withName("events"))
                .process(() -> new ParseProcessor(s, telemetry), Named.as("parse"));
        Map<String, KStream<byte[], Routed>> split = parsed.split(Named.as("parsed-"))
                .branch((k, v) -> v.isRejected(), Branched.as("rejected"))
                .defaultBranch(Branched.as("ok"));
        split.get("parsed-rejected").mapValues(Routed::rejected, Named.as("rejected-bytes"))
                .to(s.deadLetterTopic(), Produced.with(Serdes.ByteArray(), Serdes.ByteArray()).withName("dead-letter"));
        KStream<byte[], Routed> events = split.get("parsed-ok")
                .repartition(Repartitioned.with(Serdes.ByteArray(), EventSerde.serde()).withName(REPARTITION));
        KStream<byte[], Routed> control = b.stream(s.controlTopic(), Consumed.with(Serdes.ByteArray(), Serdes.ByteArray())
                        .withName("control"))
                .flatMapValues(CarouselTopology::control, Named.as("control-parse"));
        return events.merge(control, Named.as("events-and-control"));
    }

    /** A control record, or nothing for one that is not (logged: only Carousel writes the topic). */
    static java.util.List<Routed> control(byte[] key, byte[] value) {
        try {
            if (key == null) {
                throw new IllegalArgumentException("control record has no key");
            }
            return java.util.List.of(Routed.control(Control.parse(value)));
        } catch (IllegalArgumentException e) {
            LOG.warn("skipped a record on the control topic: {}", e.getMessage());
            return java.util.List.of();
        }
    }
}
