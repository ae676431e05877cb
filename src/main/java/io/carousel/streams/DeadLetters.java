package io.carousel.streams;

import java.nio.charset.StandardCharsets;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.streams.processor.api.RecordMetadata;

/**
 * The headers of a dead-letter record, in the conventions of Kafka Streams' own dead-letter queue
 * (KIP-1034), so one consumer reads both the records Carousel rejects and those Kafka Streams'
 * exception handlers send to the same topic.
 */
public final class DeadLetters {

    public static final String EXCEPTION = "__streams.errors.exception";
    public static final String MESSAGE = "__streams.errors.message";
    public static final String TOPIC = "__streams.errors.topic";
    public static final String PARTITION = "__streams.errors.partition";
    public static final String OFFSET = "__streams.errors.offset";
    /** Carousel's stable reason code (Rejection.Reason), for grouping and metrics. */
    public static final String REASON = "carousel.reason";

    private DeadLetters() {}

    static void annotate(Headers h, Rejection r, RecordMetadata m) {
        put(h, EXCEPTION, Rejection.class.getName());
        put(h, MESSAGE, r.getMessage());
        put(h, REASON, r.reason().name());
        if (m != null) {
            put(h, TOPIC, m.topic());
            put(h, PARTITION, Integer.toString(m.partition()));
            put(h, OFFSET, Long.toString(m.offset()));
        }
    }

    private static void put(Headers h, String key, String value) {
        h.remove(key);
        h.add(key, value.getBytes(StandardCharsets.UTF_8));
    }
}
