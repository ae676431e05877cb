package io.carousel.streams;

/**
 * One usable event: its series key, event time, numeric features (the first O are forecast
 * targets) and the original JSON bytes, which go out again, every field kept, in the enriched topic.
 */
public record ParsedEvent(String key, long timestamp, double[] features, byte[] original) {}
