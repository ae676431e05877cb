package io.carousel.streams;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.carousel.config.CarouselConfig;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.state.KeyValueStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The read side the HTTP API uses, against the production topology's own stores and outputs. */
class KeyQueriesTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long T0 = 1_700_000_000_000L;

    @TempDir
    Path dir;

    private static String event(int i, double phase) {
        return "{\"timestamp\": " + (T0 + i * 60_000L) + ", \"value\": " + Math.sin(2 * Math.PI * i / 40.0 + phase) + "}";
    }

    @Test
    void aFreshRollOutIsWhatTheForecastsTopicSaidAfterTheLastEvent() throws Exception {
        Map<String, String> cfg = Map.of("forecast.horizon", "5", "retrain.every-events", "200", "retrain.epochs", "5",
                "retrain.seq-len", "32", "model.hidden", "8", "retrain.max-regression", "1000", "anomaly.warmup-events", "50",
                // any model is accepted, and serves: no gate, which would prefer persistence to a weak one
                "forecast.gate.half-life", "0");
        try (TopologyHarness h = new TopologyHarness(dir, cfg)) {
            for (int i = 0; i < 260; i++) {
                h.send("k", event(i, 0), 0);
            }
            List<String> forecasts = TopologyHarness.values(h.forecasts);
            JsonNode last = JSON.readTree(forecasts.get(forecasts.size() - 1));
            assertEquals(1, last.get("modelVersion").asLong(), "trained");
            KeyValueStore<String, byte[]> states = h.driver.getKeyValueStore(CarouselTopology.KEY_STATE_STORE);
            KeyValueStore<String, byte[]> models = h.driver.getKeyValueStore(CarouselTopology.MODEL_STORE);
            KeyValueStore<Bytes, byte[]> history = h.driver.getKeyValueStore(CarouselTopology.HISTORY_STORE);
            KeyQueries q = new KeyQueries(StreamSettings.from(CarouselConfig.of(cfg)), ModelSource.from(h.settings));
            byte[] state = states.get("k");
            KeyQueries.Rollout r = q.rollout("k", state, models.get("k"), () -> q.history(history, "k", state, Long.MIN_VALUE), 5);
            assertEquals("lstm", r.source());
            assertEquals(1, r.modelVersion());
            for (int s = 0; s < 5; s++) {
                JsonNode want = last.get("horizon").get(s);
                KeyQueries.Step got = r.steps().get(s);
                assertEquals(want.get("timestamp").asLong(), got.timestamp());
                // h and c are stored as floats: the same roll-out to float precision
                assertEquals(want.get("forecast").asDouble(), got.forecast(), 1e-4, "step " + (s + 1));
                assertEquals(want.get("upper").asDouble() - want.get("lower").asDouble(), got.upper() - got.lower(), 1e-9);
            }
            KeyQueries.KeyView v = q.view("k", state);
            assertEquals("k", v.model());
            assertEquals(260, v.events());
            assertEquals(last.get("horizon").get(0).get("forecast").asDouble(), v.forecast(), 1e-12);
            assertEquals(259, q.history(history, "k", state, T0).size(), "events after T0");
        }
    }

    @Test
    void aKeyOfAGroupRollsOutWithTheGroupsNewestModel() throws Exception {
        Map<String, String> cfg = Map.of("model.scope", "global", "retrain.every-events", "600", "retrain.epochs", "3",
                "retrain.seq-len", "32", "model.hidden", "8", "retrain.max-regression", "1000");
        try (TopologyHarness h = new TopologyHarness(dir, cfg)) {
            for (int i = 0; i < 310; i++) {
                h.send("a", event(i, 0), 0);
                h.send("b", event(i, 1.3), 0);
            }
            KeyValueStore<String, byte[]> groups = h.driver.getKeyValueStore(CarouselTopology.GROUP_MODEL_STORE);
            byte[] record = groups.get("*");
            assertTrue(record != null, "the global model was published");
            KeyValueStore<String, byte[]> states = h.driver.getKeyValueStore(CarouselTopology.KEY_STATE_STORE);
            KeyValueStore<Bytes, byte[]> history = h.driver.getKeyValueStore(CarouselTopology.HISTORY_STORE);
            KeyQueries q = new KeyQueries(StreamSettings.from(CarouselConfig.of(cfg)), ModelSource.from(h.settings));
            byte[] state = states.get("a");
            assertEquals("*", q.view("a", state).model());
            KeyQueries.Rollout r = q.rollout("a", state, record, () -> q.history(history, "a", state, Long.MIN_VALUE), 3);
            assertEquals(3, r.steps().size());
            assertTrue(r.steps().stream().allMatch(s -> Double.isFinite(s.forecast())));
        }
    }
}
