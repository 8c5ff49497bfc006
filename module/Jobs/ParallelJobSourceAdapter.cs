using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using SyncPool.Pool;

namespace SyncPool.Jobs;

/// <summary>
/// How Get-Job, Wait-Job, Receive-Job, Stop-Job and Remove-Job find the
/// jobs of Start-ParallelTask -AsJob (one adapter per runspace's job
/// manager, holding that runspace's jobs).
/// </summary>
/// <remarks>
/// A ParallelTask piped to a job cmdlet binds by its Name; when no job has
/// that name but a task does, the lookup fails with a message that names the
/// SyncPool cmdlet to use instead of leaving only "job not found".
/// </remarks>
public sealed class ParallelJobSourceAdapter : JobSourceAdapter
{
    private readonly ConcurrentDictionary<Guid, ParallelJob> _jobs = new();

    public ParallelJobSourceAdapter()
    {
        Name = nameof(ParallelJobSourceAdapter);
    }

    public override Job2 NewJob(JobInvocationInfo specification)
    {
        ArgumentNullException.ThrowIfNull(specification);
        if (specification.Parameters.Count == 0 || specification.Parameters[0].Count == 0
            || specification.Parameters[0][0].Value is not ParallelJob job)
        {
            throw new ArgumentException("Parallel jobs are created by Start-ParallelTask -AsJob.", nameof(specification));
        }
        _jobs[job.InstanceId] = job;
        return job;
    }

    public override IList<Job2> GetJobs() => _jobs.Values.OrderBy(j => j.Id).ToArray<Job2>();

    public override IList<Job2> GetJobsByName(string name, bool recurse)
    {
        var pattern = new WildcardPattern(name, WildcardOptions.IgnoreCase);
        var found = _jobs.Values.Where(j => pattern.IsMatch(j.Name)).OrderBy(j => j.Id).ToArray<Job2>();
        if (found.Length == 0 && !WildcardPattern.ContainsWildcardCharacters(name) && IsTaskName(name))
        {
            throw new PSInvalidOperationException(
                $"'{name}' is a SyncPool parallel task, not a job. Use Wait-ParallelTask, Receive-ParallelTask, Stop-ParallelTask or " +
                "Remove-ParallelTask for tasks, or start them with Start-ParallelTask -AsJob to get a job for the job cmdlets.");
        }
        return found;
    }

    public override IList<Job2> GetJobsByCommand(string command, bool recurse)
    {
        var pattern = new WildcardPattern(command, WildcardOptions.IgnoreCase);
        return _jobs.Values.Where(j => pattern.IsMatch(j.Command.Trim())).OrderBy(j => j.Id).ToArray<Job2>();
    }

    public override Job2? GetJobByInstanceId(Guid instanceId, bool recurse) => _jobs.TryGetValue(instanceId, out var job) ? job : null;

    public override Job2? GetJobBySessionId(int id, bool recurse) => _jobs.Values.FirstOrDefault(j => j.Id == id);

    public override IList<Job2> GetJobsByState(JobState state, bool recurse) =>
        _jobs.Values.Where(j => j.JobStateInfo.State == state).OrderBy(j => j.Id).ToArray<Job2>();

    public override IList<Job2> GetJobsByFilter(Dictionary<string, object> filter, bool recurse) =>
        throw new PSNotSupportedException("Parallel jobs cannot be filtered with -Filter; use -Name, -Id, -State or -Command.");

    /// <summary>Remove-Job: the job leaves the list and is disposed of (Remove-Job -Force stops it first).</summary>
    public override void RemoveJob(Job2 job)
    {
        ArgumentNullException.ThrowIfNull(job);
        if (!_jobs.TryRemove(job.InstanceId, out var removed)) return;
        removed.StopJob();
        removed.Dispose();
    }

    private static bool IsTaskName(string name) =>
        TaskEngine.Tasks(null, null).Any(t => string.Equals(t.Name, name, StringComparison.OrdinalIgnoreCase));
}
