package io.carousel.streams;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.carousel.config.CarouselConfig;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.MockProcessorContext;
import org.apache.kafka.streams.processor.api.MockProcessorContext.CapturedForward;
import org.apache.kafka.streams.processor.api.MockProcessorContext.CapturedPunctuator;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.Stores;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@link ForecastProcessor} alone, over in-memory stores in a {@link MockProcessorContext}, with
 * punctuators fired by hand and the real trainer pool (asynchronous, as in {@code run}).
 */
class ForecastProcessorTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long T0 = 1_700_000_000_000L;

    private final MockProcessorContext<byte[], Emitted> context = new MockProcessorContext<>();
    private Trainers trainers;
    private KeyValueStore<String, byte[]> keyState;
    private KeyValueStore<String, byte[]> models;

    private ForecastProcessor processor(Map<String, String> overrides, boolean synchronous) {
        Map<String, String> o = new HashMap<>(Map.of("anomaly.warmup-events", "20"));
        o.putAll(overrides);
        StreamSettings s = StreamSettings.from(CarouselConfig.of(o));
        if (synchronous) {
            s = s.withSynchronousTraining();
        }
        keyState = store(CarouselTopology.KEY_STATE_STORE, Serdes.String());
        KeyValueStore<org.apache.kafka.common.utils.Bytes, byte[]> history = store(CarouselTopology.HISTORY_STORE, Serdes.Bytes());
        models = store(CarouselTopology.MODEL_STORE, Serdes.String());
        store(CarouselTopology.MODEL_VERSIONS_STORE, Serdes.Bytes());
        trainers = new Trainers(s.retrain());
        ForecastProcessor p = new ForecastProcessor(s, ModelSource.from(s), trainers, new GroupModels());
        p.init(context);
        assertNotNull(history);
        return p;
    }

    private <K> KeyValueStore<K, byte[]> store(String name, org.apache.kafka.common.serialization.Serde<K> keySerde) {
        KeyValueStore<K, byte[]> s = Stores.keyValueStoreBuilder(Stores.inMemoryKeyValueStore(name), keySerde, Serdes.ByteArray())
                .withLoggingDisabled().build();
        s.init(context.getStateStoreContext(), s);
        context.addStateStore(s);
        return s;
    }

    @AfterEach
    void stopTrainers() {
        if (trainers != null) {
            trainers.close();
        }
    }

    private static Record<byte[], Routed> event(String key, long t, double value) {
        byte[] json = ("{\"timestamp\":" + t + ",\"value\":" + value + "}").getBytes(StandardCharsets.UTF_8);
        ParsedEvent e = new ParsedEvent(key, t, new double[] {value}, json, null);
        return new Record<>(key.getBytes(StandardCharsets.UTF_8), Routed.of(e), t);
    }

    private static JsonNode carousel(CapturedForward<? extends byte[], ? extends Emitted> f) throws Exception {
        assertEquals("carousel.enriched", f.record().value().topic());
        return JSON.readTree(f.record().value().value()).get("carousel");
    }

    /** What went to one topic, in order. */
    private List<CapturedForward<? extends byte[], ? extends Emitted>> to(String topic) {
        return context.forwarded().stream().filter(f -> topic.equals(f.record().value().topic())).toList();
    }

    private List<CapturedForward<? extends byte[], ? extends Emitted>> enriched() {
        return to("carousel.enriched");
    }

    @Test
    void shouldForecastPersistenceAndKeepTheKeysStateInTheStore() throws Exception {
        ForecastProcessor p = processor(Map.of("retrain.every-events", "0"), true);
        p.process(event("k", T0, 10));
        p.process(event("k", T0 + 1000, 12));
        List<CapturedForward<? extends byte[], ? extends Emitted>> out = enriched();
        assertEquals(2, out.size());
        assertEquals(2, to("carousel.forecasts").size());
        assertTrue(context.forwarded().stream().allMatch(f -> CarouselTopology.OUTPUTS.equals(f.childName().orElse(null))),
                "every output goes straight to the sink");
        assertTrue(carousel(out.get(0)).get("forecast").isNull(), "nothing was forecast for a key's first event");
        JsonNode second = carousel(out.get(1));
        assertEquals(10.0, second.get("forecast").asDouble());
        assertEquals(2.0, second.get("error").asDouble());
        assertEquals(12.0, second.get("nextForecast").asDouble());
        assertEquals("persistence", second.get("source").asText());
        assertEquals("k", new String(out.get(1).record().key(), StandardCharsets.UTF_8));
        KeyState k = KeyState.deserialise(keyState.get("k"));
        assertEquals(2, k.count());
        assertEquals(T0 + 1000, k.lastTimestamp());
        assertEquals(12.0, k.forecast()[0]);
    }

    @Test
    void shouldDeadLetterALateEventWithItsReasonWhenConfigured() {
        ForecastProcessor p = processor(Map.of("events.out-of-order", "dead-letter"), true);
        p.process(event("k", T0 + 5000, 1));
        p.process(event("k", T0, 2));
        assertEquals(1, enriched().size(), "the late event has no enriched record");
        CapturedForward<? extends byte[], ? extends Emitted> late = to("carousel.dead-letter").get(0);
        assertNotNull(late.record().value().value());
        assertEquals("OUT_OF_ORDER", new String(late.record().headers().lastHeader(DeadLetters.REASON).value(),
                StandardCharsets.UTF_8));
        assertEquals(1, KeyState.deserialise(keyState.get("k")).count(), "the late event did not touch the state");
    }

    @Test
    void shouldApplyATrainingFinishedOffThreadFromTheWallClockPunctuator() throws Exception {
        // any model is accepted, and serves: no gate, which would prefer persistence to a weak one
        ForecastProcessor p = processor(Map.of("retrain.every-events", "150", "retrain.epochs", "2",
                "retrain.seq-len", "16", "retrain.max-regression", "1000", "model.hidden", "8",
                "forecast.gate.half-life", "0"), false);
        CapturedPunctuator apply = context.scheduledPunctuators().stream()
                .filter(c -> c.getType() == PunctuationType.WALL_CLOCK_TIME && c.getInterval().equals(Duration.ofMillis(200)))
                .findFirst().orElseThrow(() -> new AssertionError("no punctuator applies finished trainings"));
        for (int i = 0; i < 150; i++) {
            p.process(event("k", T0 + i * 1000L, Math.sin(i / 5.0)));
        }
        assertNull(models.get("k"), "training runs on the pool: nothing is applied on submission");
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (trainers.completed() == 0 && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertEquals(1, trainers.completed());
        assertTrue(trainers.threadNames().stream().allMatch(n -> n.startsWith("carousel-trainer-")));
        assertNull(models.get("k"), "the result waits for the stream thread");
        apply.getPunctuator().punctuate(System.currentTimeMillis());
        assertNotNull(models.get("k"), "the punctuator stored the new version");
        KeyState k = KeyState.deserialise(keyState.get("k"));
        assertEquals(1, k.modelVersion());
        context.resetForwards();
        p.process(event("k", T0 + 150_000, Math.sin(150 / 5.0)));
        JsonNode c = carousel(enriched().get(0));
        assertEquals(1, c.get("modelVersion").asLong());
        assertEquals("lstm", c.get("source").asText());
    }

    @Test
    void shouldTrainAgainAfterKafkaStreamsRevivesTheTaskOnTheSameProcessor() throws Exception {
        // a revived task (closed dirty, e.g. after a commit timeout under exactly_once_v2) gets
        // close() then init() on the same processor instance, its stores restored to the last commit
        ForecastProcessor p = processor(Map.of("retrain.every-events", "150", "retrain.epochs", "40",
                "retrain.seq-len", "16", "retrain.max-regression", "1000", "model.hidden", "8"), false);
        for (int i = 0; i < 150; i++) {
            p.process(event("k", T0 + i * 1000L, Math.sin(i / 5.0)));
        }
        p.close();
        p.init(context); // before the first training finished: its result belongs to the old incarnation
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (trainers.completed() < 1 && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        CapturedPunctuator apply = context.scheduledPunctuators().stream()
                .filter(c -> c.getType() == PunctuationType.WALL_CLOCK_TIME && c.getInterval().equals(Duration.ofMillis(200)))
                .reduce((a, b) -> b).orElseThrow();
        apply.getPunctuator().punctuate(System.currentTimeMillis());
        assertNull(models.get("k"), "a result of a training from before the revive is not applied");
        p.process(event("k", T0 + 150_000L, Math.sin(30.0))); // still due: it schedules again
        while (trainers.completed() < 2 && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertEquals(2, trainers.completed());
        apply.getPunctuator().punctuate(System.currentTimeMillis());
        assertNotNull(models.get("k"), "the revived task applies its own trainings");
        assertEquals(1, KeyState.deserialise(keyState.get("k")).modelVersion());
    }

    @Test
    void shouldScheduleKeysByWallClockIntervalFromItsPunctuator() throws Exception {
        ForecastProcessor p = processor(Map.of("retrain.every-events", "0", "retrain.interval", "PT1M", "retrain.clock", "wall",
                "retrain.epochs", "1", "retrain.seq-len", "16", "retrain.max-regression", "1000", "model.hidden", "8"), true);
        CapturedPunctuator byTime = context.scheduledPunctuators().stream()
                .filter(c -> c.getType() == PunctuationType.WALL_CLOCK_TIME && c.getInterval().equals(Duration.ofSeconds(15)))
                .findFirst().orElseThrow(() -> new AssertionError("no punctuator checks retrain.interval"));
        for (int i = 0; i < 60; i++) {
            p.process(event("k", T0 + i * 1000L, Math.sin(i / 5.0)));
        }
        assertNull(models.get("k"));
        context.setCurrentSystemTimeMs(T0 + 61_000);
        byTime.getPunctuator().punctuate(T0 + 61_000);
        KeyState k = KeyState.deserialise(keyState.get("k"));
        assertEquals(1, k.modelVersion(), "due by wall-clock time: trained");
        context.setCurrentSystemTimeMs(T0 + 62_000);
        byTime.getPunctuator().punctuate(T0 + 62_000);
        assertEquals(1, KeyState.deserialise(keyState.get("k")).modelVersion(), "not due again before another interval");
    }

    private static Record<byte[], Routed> control(String key, Control c) {
        return new Record<>(key.getBytes(StandardCharsets.UTF_8), Routed.control(c), 0L);
    }

    @Test
    void shouldMarkAFlaggedEventAsAFalsePositiveFromTheControlTopic() throws Exception {
        ForecastProcessor p = processor(Map.of("retrain.every-events", "0"), true);
        java.util.Random noise = new java.util.Random(3);
        long spike = -1;
        for (int i = 0; i < 80; i++) {
            double v = i == 60 ? 40 : Math.sin(i / 4.0) + 0.05 * noise.nextGaussian();
            p.process(event("k", T0 + i * 1000L, v));
            if (carousel(enriched().get(enriched().size() - 1)).get("anomaly").asBoolean()) {
                spike = T0 + i * 1000L;
            }
        }
        assertEquals(T0 + 60_000, spike, "the spike is flagged");
        KeyState before = KeyState.deserialise(keyState.get("k"));
        assertEquals(1, before.anomalies());
        assertEquals(spike, before.lastAnomalyAt());
        assertTrue(before.anomalous());
        KeyQueries q = new KeyQueries(StreamSettings.from(CarouselConfig.of(Map.of("anomaly.warmup-events", "20"))),
                ModelSource.from(StreamSettings.from(CarouselConfig.defaults())));
        double thresholdBefore = q.view("k", keyState.get("k")).threshold();

        context.setRecordMetadata("carousel.control", 0, 17);
        p.process(control("k", Control.feedback(spike, false)));
        KeyState after = KeyState.deserialise(keyState.get("k"));
        assertEquals(17, after.lastControlOffset(), "the applied request's offset is recorded for the API to wait on");
        assertEquals(1, after.falsePositives());
        assertEquals(0, after.anomalies());
        assertEquals(-1, after.lastAnomalyAt());
        assertFalse(after.anomalous());
        assertTrue(q.view("k", keyState.get("k")).threshold() > thresholdBefore, "a false positive raises the key's threshold");
        assertEquals(80, after.count(), "feedback is not an event");

        // feedback on an event that is not flagged changes nothing but the offset
        context.setRecordMetadata("carousel.control", 0, 18);
        p.process(control("k", Control.feedback(spike, false)));
        assertEquals(1, KeyState.deserialise(keyState.get("k")).falsePositives());
        assertEquals(18, KeyState.deserialise(keyState.get("k")).lastControlOffset());

        // a missed anomaly: flag an ordinary event, the threshold comes down again
        context.setRecordMetadata("carousel.control", 0, 19);
        p.process(control("k", Control.feedback(T0 + 70_000, true)));
        KeyState missed = KeyState.deserialise(keyState.get("k"));
        assertEquals(1, missed.missedAnomalies());
        assertEquals(T0 + 70_000, missed.lastAnomalyAt());
        assertEquals(71, missed.lastAnomalyCount);
    }

    @Test
    void shouldRollBackToThePreviousVersionAndThenToTheInitialModel() throws Exception {
        ForecastProcessor p = processor(Map.of("retrain.every-events", "60", "retrain.epochs", "1", "retrain.seq-len", "16",
                "retrain.max-regression", "1000", "model.hidden", "8", "retrain.drift", "false"), true);
        KeyValueStore<org.apache.kafka.common.utils.Bytes, byte[]> versions = context.getStateStore(CarouselTopology.MODEL_VERSIONS_STORE);
        for (int i = 0; i < 120; i++) {
            p.process(event("k", T0 + i * 1000L, Math.sin(i / 5.0)));
        }
        assertEquals(2, KeyState.deserialise(keyState.get("k")).modelVersion(), "trained twice");
        List<ModelVersions.Version> kept = ModelVersions.list(versions, "k");
        assertEquals(List.of(1L, 2L), kept.stream().map(ModelVersions.Version::version).toList());
        assertTrue(kept.get(0).hasWeights(), "version 1's weights are kept for a rollback");
        assertEquals(1, kept.get(1).previous());

        context.setRecordMetadata("carousel.control", 0, 5);
        context.setCurrentSystemTimeMs(T0 + 200_000);
        p.process(control("k", Control.rollback()));
        KeyState k = KeyState.deserialise(keyState.get("k"));
        assertEquals(1, k.modelVersion(), "version 1 serves again");
        assertEquals(5, k.lastControlOffset());
        assertEquals(1, ModelRecords.version(ModelRecords.decode("k", models.get("k"))));
        assertTrue(ModelVersions.list(versions, "k").get(1).facts().containsKey(ModelVersions.ROLLED_BACK_AT));
        context.resetForwards();
        p.process(event("k", T0 + 120_000, Math.sin(120 / 5.0)));
        assertEquals(1, carousel(enriched().get(0)).get("modelVersion").asLong());

        p.process(control("k", Control.rollback()));
        assertNull(models.get("k"), "back to the initial model");
        context.resetForwards();
        p.process(event("k", T0 + 121_000, 0.5));
        JsonNode c = carousel(enriched().get(0));
        assertEquals(0, c.get("modelVersion").asLong());
        assertEquals("persistence", c.get("source").asText());
        assertEquals(0.5, c.get("nextForecast").asDouble(), "persistence again");

        for (int i = 122; i < 185; i++) {
            p.process(event("k", T0 + i * 1000L, Math.sin(i / 5.0)));
        }
        assertEquals(3, KeyState.deserialise(keyState.get("k")).modelVersion(), "a new version continues from the highest number");
    }
}
