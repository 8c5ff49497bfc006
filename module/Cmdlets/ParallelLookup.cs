using System;
using System.Collections;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Management.Automation;
using SyncPool.Native;
using SyncPool.Pool;

namespace SyncPool.Cmdlets;

/// <summary>Looks tasks and pools up for the -Id / -Name parameters.</summary>
internal static class ParallelLookup
{
    public static IEnumerable<ParallelTask> TasksById(IEnumerable<long> ids, Action<ErrorRecord> writeError)
    {
        foreach (long id in ids)
        {
            if (TaskEngine.FindTask(id) is { } task)
            {
                yield return task;
            }
            else
            {
                writeError(TaskNotFound(id));
            }
        }
    }

    /// <summary>Listed tasks whose names match (wildcards allowed); a plain name no task has writes SyncPool.TaskNotFound.</summary>
    public static IEnumerable<ParallelTask> TasksByName(IEnumerable<string> names, Action<ErrorRecord> writeError)
    {
        var tasks = TaskEngine.Tasks(null, null);
        foreach (string name in names)
        {
            var pattern = new WildcardPattern(name, WildcardOptions.IgnoreCase);
            bool found = false;
            foreach (var task in tasks)
            {
                if (!pattern.IsMatch(task.Name)) continue;
                found = true;
                yield return task;
            }
            if (!found && !WildcardPattern.ContainsWildcardCharacters(name)) writeError(TaskNotFound(name));
        }
    }

    /// <summary>No pool has this name (string) or id (long): ObjectNotFound, SyncPool.PoolNotFound.</summary>
    public static ErrorRecord PoolNotFound(object nameOrId) =>
        new(new ItemNotFoundException(nameOrId is string name
                ? $"No parallel pool named '{name}' exists. Create it with New-ParallelPool -Name '{name}', or list pools with Get-ParallelPool."
                : $"No parallel pool with id {nameOrId} exists. List pools with Get-ParallelPool."),
            "SyncPool.PoolNotFound", ErrorCategory.ObjectNotFound, nameOrId);

    /// <summary>No task has this name or id: ObjectNotFound, SyncPool.TaskNotFound.</summary>
    public static ErrorRecord TaskNotFound(object nameOrId) =>
        new(new ItemNotFoundException(nameOrId is string name
                ? $"No parallel task named '{name}' exists (it may have been received or removed). List tasks with Get-ParallelTask."
                : $"No parallel task with id {nameOrId} exists (it may have been received or removed). List tasks with Get-ParallelTask."),
            "SyncPool.TaskNotFound", ErrorCategory.ObjectNotFound, nameOrId);

    public static ErrorRecord Removed(ParallelTask task) =>
        new(new InvalidOperationException(
                $"Task {task.Id} ('{task.Name}') was removed (received, removed with Remove-ParallelTask, or its pool was removed), so it cannot be waited on. " +
                "Its state and what it wrote stay on the task object; use Receive-ParallelTask -Keep to receive without removing."),
            "SyncPool.TaskRemoved", ErrorCategory.InvalidOperation, task);

    /// <summary>Tasks in first-seen order, each once.</summary>
    public static List<ParallelTask> Distinct(IEnumerable<ParallelTask> tasks)
    {
        var seen = new HashSet<long>();
        return tasks.Where(t => t is not null && seen.Add(t.Id)).ToList();
    }
}
