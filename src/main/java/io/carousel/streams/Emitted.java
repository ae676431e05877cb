package io.carousel.streams;

/** The output records of one event, each null when that topic gets nothing. */
public record Emitted(byte[] enriched, byte[] forecast, byte[] anomaly, byte[] deadLetter) {}
