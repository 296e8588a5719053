using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;
using Reassure.Repair;

namespace Reassure.Build.Tasks;

/// <summary>
/// Engine progress as low-importance build messages, one per finished stage. The engine reports from worker threads;
/// the lock keeps the messages whole and in order.
/// </summary>
internal sealed class ProgressLog(TaskLoggingHelper log) : IProgress<RepairProgress>
{
    private readonly Lock _gate = new();

    public void Report(RepairProgress value)
    {
        if (value.Done != value.Total) return;
        lock (_gate) log.LogMessage(MessageImportance.Low, TaskLogExtensions.Format(Resources.Progress, value.Stage, value.Done, value.Total));
    }
}
