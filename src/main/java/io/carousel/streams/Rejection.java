package io.carousel.streams;

/** Why a record could not be used; the record goes to the dead-letter topic with this reason. */
public final class Rejection extends Exception {

    /** A short, stable code per kind of problem (for metrics and for grouping in the dead-letter topic). */
    public enum Reason {
        EMPTY_VALUE, TOO_LARGE, NOT_JSON, NOT_OBJECT, MISSING_KEY, KEY_TOO_LONG, MISSING_FEATURE,
        NOT_NUMERIC, NOT_FINITE, BAD_TIMESTAMP, OUT_OF_ORDER, MISSING_GROUP
    }

    private final Reason reason;

    public Rejection(Reason reason, String message) {
        super(message, null, false, false); // no stack trace: rejections are expected, and frequent
        this.reason = reason;
    }

    public Reason reason() {
        return reason;
    }
}
