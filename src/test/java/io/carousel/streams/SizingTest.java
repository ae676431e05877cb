package io.carousel.streams;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.carousel.config.CarouselConfig;
import java.nio.file.Path;
import java.util.Map;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The sizing estimate against the records the topology really stores. */
class SizingTest {

    @TempDir
    Path dir;

    @Test
    void shouldMatchTheBytesOfTheRecordsInTheStores() {
        String key = "sensor-0000000001"; // 17 bytes
        Map<String, String> config = Map.of("retrain.every-events", "200", "retrain.epochs", "2", "retrain.seq-len", "16",
                "retrain.max-regression", "1000", "history.max-events", "150", "events.features", "/value,/temp");
        Sizing z = Sizing.of(StreamSettings.from(CarouselConfig.of(config)), key.length());
        try (TopologyHarness h = new TopologyHarness(dir, config)) {
            for (int i = 0; i < 220; i++) {
                h.send(key, "{\"timestamp\":" + (1_700_000_000_000L + i * 1000L) + ",\"value\":" + Math.sin(i / 4.0)
                        + ",\"temp\":" + Math.cos(i / 9.0) + "}", 0);
            }
            KeyValueStore<String, byte[]> state = h.driver.getKeyValueStore(CarouselTopology.KEY_STATE_STORE);
            assertEquals(z.keyState(), key.length() + state.get(key).length);
            KeyValueStore<Bytes, byte[]> history = h.driver.getKeyValueStore(CarouselTopology.HISTORY_STORE);
            int events = 0;
            try (KeyValueIterator<Bytes, byte[]> it = history.all()) {
                while (it.hasNext()) {
                    KeyValue<Bytes, byte[]> kv = it.next();
                    assertEquals(z.historyEvent(), kv.key.get().length + kv.value.length);
                    events++;
                }
            }
            assertEquals(150, events, "the history is capped at history.max-events");
            assertEquals(150, z.historyEvents());
            KeyValueStore<String, byte[]> models = h.driver.getKeyValueStore(CarouselTopology.MODEL_STORE);
            int model = models.get(key).length;
            assertTrue(Math.abs(z.model() - model) < 0.02 * model, "estimated " + z.model() + ", stored " + model);
            assertEquals(z.keyState() + 150L * z.historyEvent() + z.model(), z.perKey());
        }
        // 549 bytes up to format 2, 41 for format 3's forecast gate and change scale, 44 for format 4's seasonal and smoothed sources
        assertEquals(634, Sizing.of(StreamSettings.from(CarouselConfig.of(Map.of())), 0).keyState(), "H = 32, one feature");
    }
}
