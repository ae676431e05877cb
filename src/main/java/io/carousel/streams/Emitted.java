package io.carousel.streams;

/**
 * The output records of one event, each null when that topic gets nothing; with group models,
 * also the event's training sample for its group ({@code group} is the sample's key).
 */
public record Emitted(byte[] enriched, byte[] forecast, byte[] anomaly, byte[] deadLetter, byte[] group, byte[] sample) {

    Emitted(byte[] enriched, byte[] forecast, byte[] anomaly, byte[] deadLetter) {
        this(enriched, forecast, anomaly, deadLetter, null, null);
    }
}
