package io.carousel.cli;

import io.carousel.config.CarouselConfig;
import io.carousel.streams.Sizing;
import io.carousel.streams.StreamSettings;
import java.io.PrintWriter;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code sizing}: the state bytes per key of the configuration, and what N keys need, to plan before deploying. */
@Command(name = "sizing", mixinStandardHelpOptions = true,
        description = {"Print the bytes each key costs in Carousel's state stores under the configuration"
            + " (model.hidden, model.layers, events.features, history.max-events, model.scope), and the total for N keys.",
            "Exact record sizes; RocksDB adds some overhead per record and compresses, and the changelog"
                + " topics hold about as much again on the brokers, times topic.replication."})
final class SizingCommand implements Callable<Integer> {

    @Option(names = "--keys", paramLabel = "N", defaultValue = "1000000", description = "Number of keys (default ${DEFAULT-VALUE}).")
    long keys;

    @Option(names = "--key-bytes", paramLabel = "B", defaultValue = "16",
            description = "Typical length of a key in bytes (default ${DEFAULT-VALUE}).")
    int keyBytes;

    @Mixin
    ConfigOptions config;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        if (keys < 1) {
            throw new IllegalArgumentException("--keys must be at least 1 (got " + keys + ")");
        }
        if (keyBytes < 1 || keyBytes > 1_000_000) {
            throw new IllegalArgumentException("--key-bytes must be in 1..1000000 (got " + keyBytes + ")");
        }
        CarouselConfig cfg = config.load();
        StreamSettings s = StreamSettings.from(cfg);
        Sizing z = Sizing.of(s, keyBytes);
        PrintWriter out = spec.commandLine().getOut();
        out.printf(Locale.ROOT, "model        H = %d, %d layer(s), %d input(s), %d output(s), scope %s%n", s.hidden(), s.layers(),
                s.modelInputs(), s.outputs(), s.scope().name().toLowerCase(Locale.ROOT));
        out.printf(Locale.ROOT, "key state    %,d bytes per key (carousel-key-state)%n", z.keyState());
        out.printf(Locale.ROOT, "history      %,d bytes per event x %,d events = %,d bytes per key (carousel-history)%n",
                z.historyEvent(), z.historyEvents(), (long) z.historyEvent() * z.historyEvents());
        if (z.modelsPerKey()) {
            out.printf(Locale.ROOT, "model        %,d bytes per trained key (carousel-models; model.scope=group shares one per group)%n",
                    z.model());
        } else {
            out.printf(Locale.ROOT, "model        %,d bytes per group (carousel-group-models, on every instance)%n", z.model());
        }
        out.printf(Locale.ROOT, "per key      %,d bytes%n", z.perKey());
        out.printf(Locale.ROOT, "%,d keys  %s in the local stores (about as much again in the changelog topics, x%d replicas)%n",
                keys, human(z.total(keys)), cfg.topicReplication());
        out.flush();
        return 0;
    }

    static String human(long bytes) {
        String[] units = {"B", "KiB", "MiB", "GiB", "TiB"};
        double v = bytes;
        int u = 0;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return String.format(Locale.ROOT, u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
    }
}
