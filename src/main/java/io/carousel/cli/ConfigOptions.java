package io.carousel.cli;

import io.carousel.config.CarouselConfig;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Option;

/**
 * {@code --config FILE} and {@code --set key=value}, shared by every command that reads the
 * configuration; CAROUSEL_* environment variables sit between the two (file, then environment, then --set).
 */
final class ConfigOptions {

    @Option(names = "--config", defaultValue = CarouselConfig.DEFAULT_FILE,
            description = "Configuration file (default ${DEFAULT-VALUE}).")
    Path file;

    @Option(names = "--set", paramLabel = "KEY=VALUE",
            description = "Override one setting (Carousel's or any Kafka Streams/client setting by its own name); repeatable.")
    List<String> sets = new ArrayList<>();

    CarouselConfig load() {
        return CarouselConfig.load(file, System.getenv(), sets);
    }
}
