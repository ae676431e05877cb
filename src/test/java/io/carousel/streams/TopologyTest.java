package io.carousel.streams;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.streams.test.TestRecord;
import org.apache.kafka.streams.state.KeyValueStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The production topology (CarouselTopology.build) under TopologyTestDriver. */
class TopologyTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long T0 = 1_700_000_000_000L;

    @TempDir
    Path dir;

    private static JsonNode json(String s) throws Exception {
        return JSON.readTree(s);
    }

    private static String event(long ts, double v) {
        return "{\"timestamp\": " + ts + ", \"value\": " + v + ", \"site\": \"north\", \"tags\": [1, 2]}";
    }

    @Test
    void shouldEnrichEveryEventKeepingEveryOriginalField() throws Exception {
        try (TopologyHarness h = new TopologyHarness(dir, Map.of())) {
            for (int i = 0; i < 3; i++) {
                h.send("s1", event(T0 + i * 60_000, 10 + i), 0);
            }
            List<String> out = TopologyHarness.values(h.enriched);
            assertEquals(3, out.size());
            JsonNode first = json(out.get(0));
            assertEquals("north", first.get("site").asText());
            assertEquals(2, first.get("tags").size());
            assertTrue(out.get(0).startsWith("{\"timestamp\": " + T0 + ", \"value\": 10.0, \"site\": \"north\""),
                    "original bytes kept as they were: " + out.get(0));
            JsonNode c = first.get("carousel");
            for (String f : List.of("forecast", "error", "anomalyScore", "anomaly", "nextForecast", "lower", "upper",
                    "modelVersion", "warm", "source")) {
                assertTrue(c.has(f), "carousel." + f + " in " + c);
            }
            assertTrue(c.get("forecast").isNull(), "no forecast existed for the first event");
            JsonNode third = json(out.get(2)).get("carousel");
            assertEquals(11.0, third.get("forecast").asDouble(), "untrained: persistence forecast of the previous value");
            assertEquals(1.0, third.get("error").asDouble());
            assertEquals("persistence", third.get("source").asText());
            assertEquals(0, third.get("modelVersion").asLong());
            assertFalse(third.get("warm").asBoolean());
            assertTrue(third.get("lower").asDouble() <= third.get("nextForecast").asDouble());
            assertTrue(third.get("upper").asDouble() >= third.get("nextForecast").asDouble());
        }
    }

    @Test
    void shouldKeepEachKeysStateInTheStoreAndReportBytesPerKey() {
        try (TopologyHarness h = new TopologyHarness(dir, Map.of())) {
            for (int i = 0; i < 10; i++) {
                h.send("a", event(T0 + i * 1000, i), 0);
                h.send("b", event(T0 + i * 1000, -i), 0);
            }
            KeyValueStore<String, byte[]> store = h.driver.getKeyValueStore(CarouselTopology.KEY_STATE_STORE);
            KeyState a = KeyState.deserialise(store.get("a"));
            KeyState b = KeyState.deserialise(store.get("b"));
            assertEquals(10, a.count());
            assertEquals(T0 + 9000, a.lastTimestamp());
            assertEquals(9.0, a.forecast()[0]);
            assertEquals(-9.0, b.forecast()[0]);
            assertEquals(2 * 32, a.hc.length, "h and c of one layer of 32");
            boolean moved = false;
            for (float v : a.hc) {
                moved |= v != 0f;
            }
            assertTrue(moved, "the LSTM stepped even while forecasting by persistence");
            // h and c as floats (256 bytes) are most of it; see KeyStateTest for the layout (format 4's
            // seasonal and smoothed sources added 44 bytes to the 590 of format 3)
            assertEquals(a.serialisedSize(), store.get("a").length);
            assertTrue(store.get("a").length < 640, "compact: " + store.get("a").length);
        }
    }

    @Test
    void shouldSendEveryUnusableRecordToTheDeadLetterTopicWithItsReason() {
        Map<String, String> cases = new HashMap<>();
        cases.put("not json", "NOT_JSON");
        cases.put("{\"value\": 1", "NOT_JSON");
        cases.put("[1, 2]", "NOT_OBJECT");
        cases.put("{\"timestamp\": 5}", "MISSING_FEATURE");
        cases.put("{\"value\": \"12\"}", "NOT_NUMERIC");
        cases.put("{\"value\": 1e999}", "NOT_FINITE");
        cases.put("{\"value\": NaN}", "NOT_JSON");
        cases.put("{\"value\": 1, \"timestamp\": \"yesterday\"}", "BAD_TIMESTAMP");
        cases.put("{\"value\": 1, \"timestamp\": \"2999-01-01T00:00:00Z\"}", "BAD_TIMESTAMP");
        cases.put("{\"value\": 1, \"timestamp\": " + ("9".repeat(30)) + "}", "BAD_TIMESTAMP");
        try (TopologyHarness h = new TopologyHarness(dir, Map.of("events.max-bytes", "200"))) {
            for (Map.Entry<String, String> c : cases.entrySet()) {
                h.send("k", c.getKey(), T0);
            }
            h.send(null, "{\"value\": 1}", T0);
            h.send("k", "", T0);
            h.send("k", "{\"value\": 1, \"pad\": \"" + "x".repeat(300) + "\"}", T0);
            h.events.pipeInput("k".getBytes(), new byte[] {'{', '"', 'v', '"', ':', (byte) 0xC3, 0x28, '}'}, T0);
            List<TestRecord<byte[], byte[]>> dead = h.deadLetter.readRecordsToList();
            assertEquals(cases.size() + 4, dead.size());
            int i = 0;
            for (Map.Entry<String, String> c : cases.entrySet()) {
                TestRecord<byte[], byte[]> r = dead.get(i++);
                assertEquals(c.getKey(), new String(r.value(), StandardCharsets.UTF_8), "original bytes");
                assertEquals(c.getValue(), header(r.headers(), DeadLetters.REASON), c.getKey());
                assertNotNull(header(r.headers(), DeadLetters.MESSAGE));
                assertEquals(h.settings.eventsTopic(), header(r.headers(), DeadLetters.TOPIC));
                assertNotNull(header(r.headers(), DeadLetters.OFFSET));
            }
            assertEquals("MISSING_KEY", header(dead.get(i++).headers(), DeadLetters.REASON));
            assertEquals("EMPTY_VALUE", header(dead.get(i++).headers(), DeadLetters.REASON));
            assertEquals("TOO_LARGE", header(dead.get(i++).headers(), DeadLetters.REASON));
            assertEquals("NOT_JSON", header(dead.get(i).headers(), DeadLetters.REASON), "invalid UTF-8");
            assertTrue(h.enriched.isEmpty(), "nothing bad is enriched");
        }
    }

    @Test
    void shouldFollowTheOutOfOrderSetting() {
        for (String mode : List.of("process", "dead-letter")) {
            try (TopologyHarness h = new TopologyHarness(dir.resolve(mode), Map.of("events.out-of-order", mode))) {
                h.send("k", event(T0 + 2000, 1), 0);
                h.send("k", event(T0 + 1000, 2), 0);
                int enriched = h.enriched.readValuesToList().size();
                List<TestRecord<byte[], byte[]>> dead = h.deadLetter.readRecordsToList();
                if (mode.equals("process")) {
                    assertEquals(2, enriched);
                    assertTrue(dead.isEmpty());
                } else {
                    assertEquals(1, enriched);
                    assertEquals("OUT_OF_ORDER", header(dead.get(0).headers(), DeadLetters.REASON));
                }
            }
        }
    }

    @Test
    void shouldTakeTheKeyAndTimestampFromFieldsWhenConfigured() throws Exception {
        Map<String, String> cfg = Map.of("events.key.field", "sensor", "events.timestamp.field", "/meta/at",
                "events.features", "/reading/temp");
        try (TopologyHarness h = new TopologyHarness(dir, cfg)) {
            h.send("ignored", "{\"sensor\": \"t-1\", \"meta\": {\"at\": \"2014-04-01 00:00:00\"}, \"reading\": {\"temp\": 20.5}}", 0);
            h.send(null, "{\"sensor\": \"t-1\", \"meta\": {\"at\": \"2014-04-01T00:05:00Z\"}, \"reading\": {\"temp\": 21}}", 0);
            List<String> f = TopologyHarness.values(h.forecasts);
            assertEquals(2, f.size());
            JsonNode second = json(f.get(1));
            assertEquals("t-1", second.get("key").asText());
            assertEquals(1396310700000L, second.get("timestamp").asLong());
            assertEquals(21.0, second.get("horizon").get(0).get("forecast").asDouble());
            assertEquals(1396310700000L + 300_000, second.get("horizon").get(0).get("timestamp").asLong(),
                    "a regular series' next timestamp");
            // parsed before the repartition, so rejected there, with the same headers
            h.send("k", "{\"meta\": {\"at\": 5}, \"reading\": {\"temp\": 1}}", 0);
            List<TestRecord<byte[], byte[]>> dead = h.deadLetter.readRecordsToList();
            assertEquals(1, dead.size());
            assertEquals("MISSING_KEY", header(dead.get(0).headers(), DeadLetters.REASON));
            assertEquals(h.settings.eventsTopic(), header(dead.get(0).headers(), DeadLetters.TOPIC));
            assertArrayEquals("k".getBytes(StandardCharsets.UTF_8), dead.get(0).key(), "the original key");
        }
    }

    @Test
    void shouldRollTheForecastOutOverTheHorizon() throws Exception {
        try (TopologyHarness h = new TopologyHarness(dir, Map.of("forecast.horizon", "4"))) {
            for (int i = 0; i < 5; i++) {
                h.send("k", event(T0 + i * 60_000, i), 0);
            }
            List<String> f = TopologyHarness.values(h.forecasts);
            JsonNode horizon = json(f.get(4)).get("horizon");
            assertEquals(4, horizon.size());
            for (int s = 0; s < 4; s++) {
                assertEquals(s + 1, horizon.get(s).get("step").asInt());
                assertEquals(T0 + (4 + s + 1) * 60_000L, horizon.get(s).get("timestamp").asLong());
                assertEquals(4.0, horizon.get(s).get("forecast").asDouble(), "persistence repeats the last value");
            }
            double w1 = horizon.get(0).get("upper").asDouble() - horizon.get(0).get("lower").asDouble();
            double w4 = horizon.get(3).get("upper").asDouble() - horizon.get(3).get("lower").asDouble();
            assertTrue(w4 > w1, "intervals widen with the horizon");
        }
    }

    @Test
    void shouldFlagASpikeAfterWarmUpAndSayWhichFeatureDeviated() throws Exception {
        Map<String, String> cfg = Map.of("anomaly.warmup-events", "50", "events.features", "/value,/other",
                "model.outputs", "2");
        try (TopologyHarness h = new TopologyHarness(dir, cfg)) {
            java.util.SplittableRandom r = new java.util.SplittableRandom(1);
            for (int i = 0; i < 300; i++) {
                double other = i == 250 ? 50 : r.nextDouble();
                h.send("k", "{\"timestamp\": " + (T0 + i * 1000) + ", \"value\": " + Math.sin(i / 10.0)
                        + ", \"other\": " + other + "}", 0);
            }
            List<String> anomalies = TopologyHarness.values(h.anomalies);
            assertFalse(anomalies.isEmpty(), "the spike is flagged");
            JsonNode a = null;
            for (String s : anomalies) {
                if (json(s).get("timestamp").asLong() == T0 + 250_000) {
                    a = json(s);
                }
            }
            assertNotNull(a, "flagged at the spike: " + anomalies);
            assertEquals("/other", a.get("deviations").get(0).get("feature").asText(), "the deviating feature first");
            assertEquals(50.0, a.get("deviations").get(0).get("value").asDouble());
            assertTrue(a.get("anomalyScore").asDouble() >= h.settings.threshold());
            assertTrue(anomalies.size() <= 5, "few false alarms on noise: " + anomalies.size());
        }
    }

    @Test
    void shouldUseTrainedWeightsFromModelInitAndMarkThem(@TempDir Path models) throws Exception {
        Path m = models.resolve("m.safetensors");
        io.carousel.lstm.LstmModel model = io.carousel.lstm.LstmModel.init(new io.carousel.lstm.LstmShape(1, 8, 1, 1), 3);
        model.putMetadata(ModelSource.VERSION_KEY, "4");
        io.carousel.lstm.Safetensors.write(m, model, false);
        try (TopologyHarness h = new TopologyHarness(dir, Map.of("model.init", m.toString()))) {
            h.send("k", event(T0, 1), 0);
            h.send("k", event(T0 + 1000, 2), 0);
            JsonNode c = json(TopologyHarness.values(h.enriched).get(1)).get("carousel");
            assertEquals("lstm", c.get("source").asText());
            assertEquals(4, c.get("modelVersion").asLong());
            assertTrue(Double.isFinite(c.get("nextForecast").asDouble()));
        }
    }

    private static String header(Headers h, String key) {
        var last = h.lastHeader(key);
        return last == null ? null : new String(last.value(), StandardCharsets.UTF_8);
    }
}
