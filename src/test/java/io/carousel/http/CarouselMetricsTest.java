package io.carousel.http;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.carousel.config.CarouselConfig;
import io.carousel.streams.CarouselTopology;
import io.carousel.streams.ModelSource;
import io.carousel.streams.StreamSettings;
import io.carousel.streams.Trainers;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Per-model meters: made at a model's first event, dropped when the task serving it closes. */
class CarouselMetricsTest {

    @TempDir
    Path dir;

    @Test
    void processedSaysOnlyOnceThatItBeganKeepingAModelsNumbers() {
        try (CarouselMetrics m = new CarouselMetrics()) {
            m.serving("a", 3); // no meters from this alone: they come with the model's first event
            assertFalse(m.scrape().contains("model=\"a\""));
            assertTrue(m.processed("a", 3, 0.5, false));
            assertFalse(m.processed("a", 3, 0.5, false), "the meters exist already");
            assertTrue(m.scrape().contains("carousel_model_serving_version{model=\"a\"} 3.0"));
            m.serving("a", 4);
            assertTrue(m.scrape().contains("carousel_model_serving_version{model=\"a\"} 4.0"));
            m.forget("a");
            assertFalse(m.scrape().contains("model=\"a\""));
            assertTrue(m.processed("a", 4, 0.5, false), "forgotten, then seen again: new meters");
        }
    }

    @Test
    void aClosingTaskDropsTheMetersOfTheModelsItServed() {
        StreamSettings s = StreamSettings.from(CarouselConfig.of(Map.of())).withSynchronousTraining();
        Properties p = CarouselConfig.of(Map.of()).streamsProperties("127.0.0.1:1");
        p.put("state.dir", dir.toString());
        try (CarouselMetrics m = new CarouselMetrics()) {
            TopologyTestDriver driver = new TopologyTestDriver(
                    CarouselTopology.build(s, ModelSource.from(s), new Trainers(s.retrain()), m), p);
            ByteArraySerializer ser = new ByteArraySerializer();
            TestInputTopic<byte[], byte[]> events = driver.createInputTopic(s.eventsTopic(), ser, ser);
            for (int i = 0; i < 4; i++) { // pump-1 three events, pump-2 one: meters made at the first
                String key = i < 3 ? "pump-1" : "pump-2";
                events.pipeInput(key.getBytes(StandardCharsets.UTF_8),
                        ("{\"timestamp\":" + (1_700_000_000_000L + i * 60_000L) + ",\"value\":" + i + "}").getBytes(StandardCharsets.UTF_8));
            }
            String before = m.scrape();
            assertTrue(before.contains("carousel_forecast_mae{model=\"pump-1\"}"), before);
            assertTrue(before.contains("carousel_forecast_mae{model=\"pump-2\"}"), before);
            driver.close();
            String after = m.scrape();
            assertFalse(after.contains("model=\"pump-1\""), after);
            assertFalse(after.contains("model=\"pump-2\""), after);
        }
    }
}
