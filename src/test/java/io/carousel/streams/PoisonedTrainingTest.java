package io.carousel.streams;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntToDoubleFunction;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Series built to break training (values near the double range, a constant, one value repeated
 * with a single jump, alternating extremes) with retraining on a short schedule: whatever the
 * trainer makes of them, no non-finite number reaches a weight in the model store, an h or c in
 * the key-state store, or an output record.
 */
class PoisonedTrainingTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    @Test
    void shouldNeverStoreANonFiniteWeightOrState() throws Exception {
        Map<String, IntToDoubleFunction> series = new HashMap<>();
        series.put("huge", i -> 1e307 * (1 + (i % 7)));                       // overflows x², sums, variances
        series.put("alternating-extremes", i -> i % 2 == 0 ? 1.7e308 : -1.7e308);
        series.put("constant", i -> 42.0);                                   // zero variance
        series.put("repeated-then-jump", i -> i < 250 ? 3.0 : 3.0e200);     // zero variance, then a leap
        series.put("tiny", i -> 1e-300 * Math.sin(i));                       // subnormal territory
        series.put("zero", i -> 0.0);
        int events = 400;
        try (TopologyHarness h = new TopologyHarness(dir, Map.of("retrain.every-events", "130", "retrain.epochs", "3",
                "retrain.seq-len", "16", "model.hidden", "8", "retrain.drift", "true", "anomaly.warmup-events", "20"))) {
            for (int i = 0; i < events; i++) {
                for (Map.Entry<String, IntToDoubleFunction> s : series.entrySet()) {
                    double v = s.getValue().applyAsDouble(i);
                    h.send(s.getKey(), "{\"timestamp\":" + (1_700_000_000_000L + i * 1000L) + ",\"value\":" + v + "}", 0);
                }
            }
            List<String> enriched = TopologyHarness.values(h.enriched);
            assertEquals(events * series.size(), enriched.size(), "every event enriched, none dead-lettered");
            for (String e : enriched) {
                JsonNode c = JSON.readTree(e).get("carousel");
                for (String f : List.of("forecast", "nextForecast", "lower", "upper", "anomalyScore", "error")) {
                    JsonNode n = c.get(f);
                    assertTrue(n.isNull() || Double.isFinite(n.asDouble()), f + " in " + e);
                }
            }

            KeyValueStore<String, byte[]> models = h.driver.getKeyValueStore(CarouselTopology.MODEL_STORE);
            List<String> trained = new java.util.ArrayList<>();
            try (KeyValueIterator<String, byte[]> it = models.all()) {
                while (it.hasNext()) {
                    KeyValue<String, byte[]> kv = it.next();
                    assertTrue(ModelRecords.decode(kv.key, kv.value).isFinite(), "weights of " + kv.key);
                    trained.add(kv.key);
                }
            }
            KeyValueStore<String, byte[]> states = h.driver.getKeyValueStore(CarouselTopology.KEY_STATE_STORE);
            int keys = 0;
            try (KeyValueIterator<String, byte[]> it = states.all()) {
                while (it.hasNext()) {
                    KeyValue<String, byte[]> kv = it.next();
                    KeyState k = KeyState.deserialise(kv.value);
                    for (float x : k.hc) {
                        assertTrue(Float.isFinite(x), "h/c of " + kv.key);
                    }
                    for (double[] a : new double[][] {k.mean, k.var, k.forecast, k.last}) {
                        for (double x : a) {
                            assertTrue(Double.isFinite(x), "statistics of " + kv.key);
                        }
                    }
                    assertTrue(Double.isFinite(k.trainMse) && Double.isFinite(k.driftSum), "drift state of " + kv.key);
                    assertEquals(events, k.count(), kv.key);
                    assertTrue(k.lastTrainedAt != 0, "a training of " + kv.key + " was attempted and its result applied or refused");
                    keys++;
                }
            }
            assertEquals(series.size(), keys);
            // persistence is exact on a flat series: validation must refuse every model there
            assertTrue(!trained.contains("constant") && !trained.contains("zero"), "a model replaced exact persistence: " + trained);
            // and huge but regular values are only a matter of scale: normalised, they train
            assertTrue(trained.contains("huge"), "keys with an accepted model: " + trained);
        }
    }
}
