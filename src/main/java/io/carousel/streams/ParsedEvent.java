package io.carousel.streams;

/**
 * One usable event: its series key, event time, numeric features (the first O are forecast
 * targets), the original JSON bytes, which go out again, every field kept, in the enriched topic,
 * and the key's model group (null with model.scope=key).
 */
public record ParsedEvent(String key, long timestamp, double[] features, byte[] original, String group) {}
