package io.carousel.lstm;

import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * The adding problem at a CI-sized length: the LSTM learns it with the project's own BPTT, the
 * plain RNN with the same trainer and budget does not get near. The full-size runs (T = 100 and
 * beyond) are {@code model longlag}.
 */
class LongLagTest {

    private static final int T = 40;

    @Test
    void shouldLearnToAddAcrossFortyStepsWhereAPlainRnnCannot() {
        AddingProblem.Settings s = new AddingProblem.Settings(T, 16, 32, 0.01, 1.0, 40_000, 500, 4);
        double lstm = AddingProblem.run(AddingProblem.Cell.LSTM, s, 3, null);
        double rnn = AddingProblem.run(AddingProblem.Cell.RNN, s, 3, null);
        assertTrue(lstm < 0.01, "LSTM test MSE " + lstm + " should be under 0.01");
        assertTrue(rnn > 0.5 * AddingProblem.BASELINE_MSE,
                "plain RNN test MSE " + rnn + " should stay near the baseline " + AddingProblem.BASELINE_MSE);
    }
}
