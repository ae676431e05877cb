package io.carousel.streams;

/**
 * One output record of the forecast step: the bytes of a record for {@code topic} (enriched,
 * forecasts, anomalies or, for a late event, dead-letter), forwarded to the topology's one output
 * sink ({@link CarouselTopology#OUTPUTS}), which sends it to that topic; or, with group models, a
 * training sample for the group that is the record's key ({@code topic} null), forwarded to
 * {@link CarouselTopology#SAMPLES}. One sink and no filters: every node a record passes costs.
 */
public record Emitted(String topic, byte[] value) {

    static Emitted sample(byte[] sample) {
        return new Emitted(null, sample);
    }
}
