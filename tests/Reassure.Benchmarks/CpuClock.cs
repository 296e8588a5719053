using System.Runtime.InteropServices;

namespace Reassure.Benchmarks;

/// <summary>
/// CPU time of the calling thread and of the process (Linux clock_gettime), in microseconds. On a machine shared with
/// other builds, wall-clock time includes the time the thread waits for a core; CPU time counts only the time it runs
/// (caches and memory bandwidth are still shared), so ratios of CPU times move far less with the load.
/// </summary>
internal static class CpuClock
{
    private const int ProcessCpuTime = 2, ThreadCpuTime = 3;

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [DllImport("libc", EntryPoint = "clock_gettime")]
    private static extern int ClockGetTime(int clock, out TimeSpec time);

    private static double Us(int clock)
    {
        if (ClockGetTime(clock, out var t) != 0) throw new InvalidOperationException("clock_gettime failed");
        return t.Seconds * 1e6 + t.Nanoseconds / 1e3;
    }

    /// <summary>CPU time of the calling thread.</summary>
    public static double ThreadUs() => Us(ThreadCpuTime);

    /// <summary>CPU time of the whole process (every thread).</summary>
    public static double ProcessUs() => Us(ProcessCpuTime);
}
