package io.carousel.streams;

/**
 * What the topology reports as it runs, for the metrics surface: counts and timings, no metrics
 * library's types, so that the streaming part neither depends on one nor knows how it is exposed
 * ({@code io.carousel.http.CarouselMetrics} turns these calls into Micrometer meters). Called on
 * stream and trainer threads: implementations must be thread-safe and cheap, a map lookup and an
 * addition per event at most. Every method does nothing by default.
 */
public interface Telemetry {

    Telemetry NONE = new Telemetry() { };

    /**
     * One event went through the forecast step, under {@code model} (its id: the key, or the
     * group) at {@code version}; {@code absError} is |value - forecast| of the first target, NaN
     * when there was no forecast yet. Returns true when this call began keeping numbers for the
     * model: the caller then calls {@link #forget} when it stops serving the model (so it need
     * not track every model it reports, only these).
     */
    default boolean processed(String model, long version, double absError, boolean anomaly) {
        return false;
    }

    /** A record went to the dead-letter topic, for this reason (a {@link Rejection.Reason} name). */
    default void deadLettered(String reason) { }

    default void retrainStarted(String model) { }

    /** A retraining finished: accepted or rejected, after {@code nanos} of training. */
    default void retrainFinished(String model, boolean accepted, long nanos) { }

    /** The model now serves this version (a training accepted, a rollback, a restore). */
    default void serving(String model, long version) { }

    /** This instance no longer serves the model (its task moved away or closed). */
    default void forget(String model) { }
}
