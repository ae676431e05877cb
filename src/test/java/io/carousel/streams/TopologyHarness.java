package io.carousel.streams;

import io.carousel.config.CarouselConfig;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;

/** The production topology under TopologyTestDriver, with string helpers for the tests. */
final class TopologyHarness implements AutoCloseable {

    final StreamSettings settings;
    final TopologyTestDriver driver;
    final TestInputTopic<byte[], byte[]> events;
    final TestOutputTopic<byte[], byte[]> enriched;
    final TestOutputTopic<byte[], byte[]> forecasts;
    final TestOutputTopic<byte[], byte[]> anomalies;
    final TestOutputTopic<byte[], byte[]> deadLetter;
    final TestInputTopic<byte[], byte[]> control;

    TopologyHarness(Path stateDir, Map<String, String> overrides) {
        CarouselConfig config = CarouselConfig.of(overrides);
        settings = StreamSettings.from(config).withSynchronousTraining();
        Properties p = config.streamsProperties("127.0.0.1:1");
        p.put("state.dir", stateDir.toString());
        driver = new TopologyTestDriver(CarouselTopology.build(settings, ModelSource.from(settings)), p);
        ByteArraySerializer ser = new ByteArraySerializer();
        ByteArrayDeserializer de = new ByteArrayDeserializer();
        events = driver.createInputTopic(settings.eventsTopic(), ser, ser);
        enriched = driver.createOutputTopic(settings.enrichedTopic(), de, de);
        forecasts = driver.createOutputTopic(settings.forecastsTopic(), de, de);
        anomalies = driver.createOutputTopic(settings.anomaliesTopic(), de, de);
        deadLetter = driver.createOutputTopic(settings.deadLetterTopic(), de, de);
        control = driver.createInputTopic(settings.controlTopic(), ser, ser);
    }

    void send(String key, String json, long recordTime) {
        events.pipeInput(key == null ? null : key.getBytes(StandardCharsets.UTF_8),
                json == null ? null : json.getBytes(StandardCharsets.UTF_8), recordTime);
    }

    /** A request on the control topic, as the HTTP API sends it. */
    void control(String key, Control c) {
        control.pipeInput(key.getBytes(StandardCharsets.UTF_8), c.toBytes());
    }

    static List<String> values(TestOutputTopic<byte[], byte[]> topic) {
        return topic.readValuesToList().stream().map(b -> new String(b, StandardCharsets.UTF_8)).toList();
    }

    @Override
    public void close() {
        driver.close();
    }
}
