package io.carousel.streams;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.streams.StreamsConfig;

/**
 * Sends {@link Control} requests to the control topic, for the HTTP API: one idempotent producer
 * per instance, configured like Kafka Streams' own clients (security settings included), created
 * on first use. {@link CarouselApp} closes it after Kafka Streams and before the embedded broker.
 */
public final class ControlChannel implements AutoCloseable {

    static final Duration SEND_TIMEOUT = Duration.ofSeconds(15);

    private final String topic;
    private final Map<String, Object> configs;
    private KafkaProducer<byte[], byte[]> producer;
    private boolean closed;

    ControlChannel(String topic, Properties streamsProperties) {
        this.topic = topic;
        this.configs = CarouselApp.clientConfigs(streamsProperties, ProducerConfig.configNames(), StreamsConfig.PRODUCER_PREFIX);
        configs.put(ProducerConfig.CLIENT_ID_CONFIG, "carousel-control-" + streamsProperties.getProperty(StreamsConfig.APPLICATION_ID_CONFIG));
        configs.put(ProducerConfig.ACKS_CONFIG, "all");
        configs.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        configs.put(ProducerConfig.LINGER_MS_CONFIG, "0");
        configs.remove(ProducerConfig.TRANSACTIONAL_ID_CONFIG);
    }

    /**
     * Writes {@code c} for {@code key} to {@code partition} (the partition of the key's task) and
     * returns its offset once the brokers have it.
     *
     * @throws IllegalStateException if it cannot be written within {@link #SEND_TIMEOUT}
     */
    public long send(String key, int partition, Control c) {
        KafkaProducer<byte[], byte[]> p = producer();
        try {
            return p.send(new ProducerRecord<>(topic, partition, key.getBytes(StandardCharsets.UTF_8), c.toBytes()))
                    .get(SEND_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS).offset();
        } catch (ExecutionException e) {
            throw new IllegalStateException("cannot write to " + topic + ": " + e.getCause().getMessage(), e.getCause());
        } catch (TimeoutException e) {
            throw new IllegalStateException("cannot write to " + topic + " within " + SEND_TIMEOUT.toSeconds() + " s", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while writing to " + topic, e);
        }
    }

    private synchronized KafkaProducer<byte[], byte[]> producer() {
        if (closed) {
            throw new IllegalStateException("Carousel is stopping");
        }
        if (producer == null) {
            producer = new KafkaProducer<>(configs, new ByteArraySerializer(), new ByteArraySerializer());
        }
        return producer;
    }

    @Override
    public synchronized void close() {
        closed = true;
        if (producer != null) {
            producer.close(Duration.ofSeconds(5));
            producer = null;
        }
    }
}
