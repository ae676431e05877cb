package io.carousel.streams;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;

/**
 * A request that changes a key's state or model, on the control topic: user feedback on an event
 * ({@code {"type":"feedback","timestamp":...,"anomaly":false}}) or a model rollback
 * ({@code {"type":"rollback"}}), keyed by the series key (the model id, with per-key models).
 *
 * <p>Why a topic and not a store write from the HTTP thread: the key-state, history and model
 * stores are written only by the stream task that owns the key, inside its exactly-once
 * transactions; a write from another thread would race the task, escape the changelog
 * transaction, and be lost or duplicated on a rebalance. A control record is consumed by that
 * same task, in order with the key's events, so feedback applies exactly once, after the events
 * before it and before those after it. The topic has as many partitions as the events topic and
 * the sender writes to the partition Kafka Streams' metadata names for the key, so the record
 * reaches the task whatever partitioner the events' producers used.
 *
 * <p>JSON rather than a binary format: it is written rarely, and readable with any Kafka client.
 */
public record Control(Type type, long timestamp, boolean anomaly) {

    public enum Type { FEEDBACK, ROLLBACK }

    private static final ObjectMapper JSON = new ObjectMapper();

    public static Control feedback(long timestamp, boolean anomaly) {
        return new Control(Type.FEEDBACK, timestamp, anomaly);
    }

    public static Control rollback() {
        return new Control(Type.ROLLBACK, -1, false);
    }

    public byte[] toBytes() {
        ObjectNode n = JSON.createObjectNode();
        n.put("type", type.name().toLowerCase());
        if (type == Type.FEEDBACK) {
            n.put("timestamp", timestamp);
            n.put("anomaly", anomaly);
        }
        try {
            return JSON.writeValueAsBytes(n);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** @throws IllegalArgumentException for anything that is not a control record of this format */
    public static Control parse(byte[] bytes) {
        JsonNode n;
        try {
            n = bytes == null ? null : JSON.readTree(bytes);
        } catch (IOException e) {
            throw new IllegalArgumentException("control record is not JSON: " + e.getMessage());
        }
        if (n == null || !n.isObject() || !n.path("type").isTextual()) {
            throw new IllegalArgumentException("control record has no type");
        }
        switch (n.get("type").asText()) {
            case "feedback" -> {
                if (!n.path("timestamp").canConvertToLong() || !n.path("anomaly").isBoolean()) {
                    throw new IllegalArgumentException("feedback needs a numeric timestamp and a boolean anomaly");
                }
                return feedback(n.get("timestamp").asLong(), n.get("anomaly").asBoolean());
            }
            case "rollback" -> {
                return rollback();
            }
            default -> throw new IllegalArgumentException("unknown control type " + n.get("type").asText());
        }
    }
}
