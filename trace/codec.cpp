// Chunk names and the record encoding of each table of a .kprof trace (the layout is in
// trace/codec.hpp).
#include "trace/codec.hpp"

#include <string>
#include <vector>

namespace kprof::detail {

std::string chunk_name(uint32_t type) {
    switch (static_cast<ChunkType>(type)) {
        case ChunkType::meta:
            return "metadata";
        case ChunkType::events:
            return "events";
        case ChunkType::losses:
            return "losses";
        case ChunkType::kernel_symbols:
            return "kernel symbols";
        case ChunkType::dsos:
            return "dsos";
        case ChunkType::mappings:
            return "mappings";
        case ChunkType::threads:
            return "threads";
        case ChunkType::stacks:
            return "stacks";
        case ChunkType::samples:
            return "samples";
        case ChunkType::index:
            return "index";
    }
    return "type " + std::to_string(type);
}

void encode_meta(Encoder& e, const Profile& p) {
    const TraceMeta& m = p.meta;
    e.str(m.hostname);
    e.str(m.kernel_release);
    e.str(m.arch);
    e.str(m.command_line);
    e.str(m.target);
    e.str(m.kprof_version);
    e.str(m.source_format);
    e.varint(m.start_time_ns);
    e.varint(m.duration_ns);
    e.varint(m.first_sample_ns);
    e.varint(m.nr_cpus);
    e.svarint(m.exit_status);
    e.boolean(m.interrupted);
    e.boolean(m.kptr_restricted);
    e.f64(m.collector_cpu_seconds);
    e.varint(p.unresolved_frames);
}

void decode_meta(Decoder& d, TraceMeta& m, uint64_t& unresolved) {
    m.hostname = d.str();
    m.kernel_release = d.str();
    m.arch = d.str();
    m.command_line = d.str();
    m.target = d.str();
    m.kprof_version = d.str();
    m.source_format = d.str();
    m.start_time_ns = d.varint();
    m.duration_ns = d.varint();
    m.first_sample_ns = d.varint();
    m.nr_cpus = d.u32v("nr_cpus");
    const int64_t status = d.svarint();
    if (status < INT32_MIN || status > INT32_MAX) d.fail("exit status out of range");
    m.exit_status = static_cast<int32_t>(status);
    m.interrupted = d.boolean();
    m.kptr_restricted = d.boolean();
    m.collector_cpu_seconds = d.f64();
    unresolved = d.varint();
}

void encode_events(Encoder& e, const std::vector<EventDesc>& events) {
    e.varint(events.size());
    for (const EventDesc& ev : events) {
        e.str(ev.name);
        e.varint(ev.type);
        e.varint(ev.config);
        e.boolean(ev.use_freq);
        e.varint(ev.freq_or_period);
        e.varint(ev.samples);
    }
}

std::vector<EventDesc> decode_events(Decoder& d) {
    std::vector<EventDesc> events(d.count(6));
    if (events.size() > UINT16_MAX + 1ULL) d.fail("more events than sample event ids can name");
    for (EventDesc& ev : events) {
        ev.name = d.str();
        ev.type = d.u32v("event type");
        ev.config = d.varint();
        ev.use_freq = d.boolean();
        ev.freq_or_period = d.varint();
        ev.samples = d.varint();
    }
    return events;
}

void encode_losses(Encoder& e, const std::vector<CpuLoss>& losses) {
    e.varint(losses.size());
    for (const CpuLoss& l : losses) {
        e.varint(l.cpu);
        e.varint(l.lost_records);
        e.varint(l.lost_samples);
        e.varint(l.throttles);
        e.varint(l.unthrottles);
    }
}

std::vector<CpuLoss> decode_losses(Decoder& d) {
    std::vector<CpuLoss> losses(d.count(5));
    for (CpuLoss& l : losses) {
        l.cpu = d.u32v("cpu");
        l.lost_records = d.varint();
        l.lost_samples = d.varint();
        l.throttles = d.varint();
        l.unthrottles = d.varint();
    }
    return losses;
}

void encode_kernel_symbols(Encoder& e, const std::vector<KernelSymbol>& symbols) {
    e.varint(symbols.size());
    uint64_t prev = 0;
    for (const KernelSymbol& s : symbols) {
        e.svarint(static_cast<int64_t>(s.addr - prev));
        prev = s.addr;
        e.u8(static_cast<uint8_t>(s.type));
        e.str(s.name);
        e.str(s.module);
    }
}

std::vector<KernelSymbol> decode_kernel_symbols(Decoder& d) {
    std::vector<KernelSymbol> symbols(d.count(4));
    uint64_t prev = 0;
    for (KernelSymbol& s : symbols) {
        prev += static_cast<uint64_t>(d.svarint());
        s.addr = prev;
        s.type = static_cast<char>(d.u8());
        s.name = d.str();
        s.module = d.str();
    }
    return symbols;
}

void encode_dsos(Encoder& e, const std::vector<Dso>& dsos) {
    e.varint(dsos.size());
    for (const Dso& dso : dsos) {
        e.str(dso.path);
        e.str(dso.build_id);
        e.boolean(dso.deleted);
        e.boolean(dso.symbolized);
        e.varint(dso.symbols.size());
        uint64_t prev = 0;
        for (const DsoSymbol& s : dso.symbols) {
            e.svarint(static_cast<int64_t>(s.start - prev));
            prev = s.start;
            e.varint(s.size);
            e.str(s.name);
            e.str(s.file);
            e.varint(s.line);
        }
        e.varint(dso.sources.size());
        prev = 0;
        for (const DsoAddressSource& src : dso.sources) {
            e.svarint(static_cast<int64_t>(src.addr - prev));
            prev = src.addr;
            e.varint(src.frames.size());
            for (const DsoSourceFrame& f : src.frames) {
                e.str(f.function);
                e.str(f.file);
                e.varint(f.line);
            }
        }
    }
}

std::vector<Dso> decode_dsos(Decoder& d) {
    std::vector<Dso> dsos(d.count(5));
    for (Dso& dso : dsos) {
        dso.path = d.str();
        dso.build_id = d.str();
        dso.deleted = d.boolean();
        dso.symbolized = d.boolean();
        dso.symbols.resize(d.count(5));
        uint64_t prev = 0;
        for (DsoSymbol& s : dso.symbols) {
            prev += static_cast<uint64_t>(d.svarint());
            s.start = prev;
            s.size = d.varint();
            s.name = d.str();
            s.file = d.str();
            s.line = d.u32v("line");
        }
        dso.sources.resize(d.count(2));
        prev = 0;
        for (DsoAddressSource& src : dso.sources) {
            prev += static_cast<uint64_t>(d.svarint());
            src.addr = prev;
            src.frames.resize(d.count(3));
            for (DsoSourceFrame& f : src.frames) {
                f.function = d.str();
                f.file = d.str();
                f.line = d.u32v("line");
            }
        }
    }
    return dsos;
}

void encode_mappings(Encoder& e, const std::vector<Mapping>& mappings) {
    e.varint(mappings.size());
    for (const Mapping& m : mappings) {
        e.varint(m.pid);
        e.varint(m.generation);
        e.varint(m.start);
        e.varint(m.len);
        e.varint(m.pgoff);
        e.varint(m.time_ns);
        e.varint(m.dso == kNoDso ? 0 : uint64_t{m.dso} + 1);
    }
}

std::vector<Mapping> decode_mappings(Decoder& d) {
    std::vector<Mapping> mappings(d.count(7));
    for (Mapping& m : mappings) {
        m.pid = d.u32v("pid");
        m.generation = d.u32v("generation");
        m.start = d.varint();
        m.len = d.varint();
        m.pgoff = d.varint();
        m.time_ns = d.varint();
        const uint64_t dso = d.varint();
        if (dso > kNoDso) d.fail("dso id out of range");
        m.dso = dso == 0 ? kNoDso : static_cast<DsoId>(dso - 1);
    }
    return mappings;
}

void encode_threads(Encoder& e, const std::vector<Thread>& threads) {
    e.varint(threads.size());
    for (const Thread& t : threads) {
        e.varint(t.pid);
        e.varint(t.tid);
        e.varint(t.ppid);
        e.str(t.comm);
        e.varint(t.start_ns);
        e.varint(t.exit_ns);
    }
}

std::vector<Thread> decode_threads(Decoder& d) {
    std::vector<Thread> threads(d.count(6));
    for (Thread& t : threads) {
        t.pid = d.u32v("pid");
        t.tid = d.u32v("tid");
        t.ppid = d.u32v("ppid");
        t.comm = d.str();
        t.start_ns = d.varint();
        t.exit_ns = d.varint();
    }
    return threads;
}

}  // namespace kprof::detail
