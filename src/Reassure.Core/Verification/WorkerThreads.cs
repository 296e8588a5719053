namespace Reassure.Verification;

/// <summary>Runs one worker loop on several long-running threads of a shared branch-and-bound search.</summary>
internal static class WorkerThreads
{
    /// <summary>
    /// Runs <paramref name="worker"/> on the calling thread when <paramref name="threads"/> is 1, otherwise on
    /// <paramref name="threads"/> long-running tasks, waiting for all; the first worker exception is rethrown as itself.
    /// </summary>
    public static void Run(Action worker, int threads, CancellationToken ct)
    {
        if (threads == 1) { worker(); return; }
        var tasks = new Task[threads];
        for (int t = 0; t < threads; t++) tasks[t] = Task.Factory.StartNew(worker, ct, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        try { Task.WaitAll(tasks, ct); }
        catch (AggregateException e) { System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerExceptions[0]).Throw(); }
    }
}
