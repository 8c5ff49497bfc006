using System;
using System.Collections;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Management.Automation;
using SyncPool.Native;
using SyncPool.Pool;

namespace SyncPool.Cmdlets;

/// <summary>Lets -Pool take a pool object, a pool name or a pool id.</summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
public sealed class PoolTransformationAttribute : ArgumentTransformationAttribute
{
    public override object? Transform(EngineIntrinsics engineIntrinsics, object? inputData)
    {
        object? value = inputData is PSObject pso ? pso.BaseObject : inputData;
        if (value is IList list and not TaskPool[])
        {
            var pools = new object?[list.Count];
            for (int i = 0; i < list.Count; i++) pools[i] = TransformOne(list[i]);
            return pools;
        }
        return TransformOne(inputData);
    }

    private static object? TransformOne(object? inputData)
    {
        object? value = inputData is PSObject pso ? pso.BaseObject : inputData;
        switch (value)
        {
            case null or TaskPool:
                return value;
            case string name:
                return TaskEngine.FindPool(name)
                       ?? throw new ArgumentTransformationMetadataException(
                           $"No parallel pool named '{name}' exists. Create it with New-ParallelPool -Name '{name}', or list pools with Get-ParallelPool.");
            case int or long:
                long id = Convert.ToInt64(value);
                return TaskEngine.Pools().FirstOrDefault(p => p.Id == id)
                       ?? throw new ArgumentTransformationMetadataException($"No parallel pool with id {id} exists. List pools with Get-ParallelPool.");
            default:
                return inputData;
        }
    }
}

/// <summary>Accepts a number of seconds greater than zero (and not absurdly large).</summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
public sealed class ValidatePositiveSecondsAttribute : ValidateArgumentsAttribute
{
    /// <summary>About 24 days: the largest timeout that fits the native millisecond timers comfortably.</summary>
    public const double MaxSeconds = int.MaxValue / 1000.0;

    protected override void Validate(object arguments, EngineIntrinsics engineIntrinsics)
    {
        object value = arguments is PSObject pso ? pso.BaseObject : arguments;
        if (!LanguagePrimitives.TryConvertTo(value, out double seconds) || double.IsNaN(seconds))
            throw new ValidationMetadataException($"'{arguments}' is not a number of seconds.");
        if (seconds <= 0)
            throw new ValidationMetadataException($"The timeout must be greater than 0 seconds; {seconds} was given. Leave the parameter out for no timeout.");
        if (seconds > MaxSeconds)
            throw new ValidationMetadataException($"The timeout must be at most {MaxSeconds:N0} seconds; leave the parameter out for no timeout.");
    }
}

/// <summary>Builds what worker runspaces start with from cmdlet parameters, in the caller's session.</summary>
internal static class ParallelSettings
{
    public static RunspaceSettings Build(PSCmdlet caller, string[]? modules, string[]? functions) =>
        new()
        {
            Modules = (modules ?? Array.Empty<string>()).Select(m => ResolveModule(caller, m)).ToList(),
            Functions = Functions(caller, functions).ToList(),
            ConstrainedLanguage = caller.SessionState.LanguageMode == PSLanguageMode.ConstrainedLanguage,
        };

    /// <summary>-Variable entries as (name, value); a leading '$' on a name is dropped.</summary>
    public static IEnumerable<KeyValuePair<string, object?>> Variables(IDictionary? variables)
    {
        if (variables is null) yield break;
        foreach (DictionaryEntry entry in variables)
        {
            string name = (entry.Key is PSObject p ? p.BaseObject : entry.Key)?.ToString()?.TrimStart('$') ?? "";
            if (name.Length == 0) throw new ArgumentException("-Variable has an entry with an empty name.");
            yield return new KeyValuePair<string, object?>(name, entry.Value);
        }
    }

    /// <summary>
    /// Preference variables a task needs so the records the caller asked for
    /// are produced at all: with -Verbose / -Debug on the cmdlet (or the
    /// caller's own preference at Continue) tasks run with Verbose/Debug
    /// preference Continue. Everything else is decided when the records are
    /// received, by the caller's own preferences.
    /// </summary>
    public static IEnumerable<KeyValuePair<string, object?>> Preferences(PSCmdlet caller)
    {
        if (Wants(caller, "Verbose", "VerbosePreference"))
            yield return new KeyValuePair<string, object?>("VerbosePreference", ActionPreference.Continue);
        if (Wants(caller, "Debug", "DebugPreference"))
            yield return new KeyValuePair<string, object?>("DebugPreference", ActionPreference.Continue);
    }

    private static bool Wants(PSCmdlet caller, string switchName, string preferenceName)
    {
        if (caller.MyInvocation.BoundParameters.TryGetValue(switchName, out var given)) return LanguagePrimitives.IsTrue(given);
        object? preference = caller.GetVariableValue(preferenceName);
        return LanguagePrimitives.TryConvertTo(preference, out ActionPreference p) && p is ActionPreference.Continue or ActionPreference.Inquire;
    }

    /// <summary>A path (relative to the caller's location) becomes a full path; a module name stays a name.</summary>
    private static string ResolveModule(PSCmdlet caller, string module)
    {
        if (string.IsNullOrWhiteSpace(module)) throw new ArgumentException("-ImportModule has an empty module name.");
        bool looksLikePath = module.IndexOfAny(['/', '\\']) >= 0 || module.StartsWith('.')
                             || module.EndsWith(".psd1", StringComparison.OrdinalIgnoreCase) || module.EndsWith(".psm1", StringComparison.OrdinalIgnoreCase)
                             || module.EndsWith(".dll", StringComparison.OrdinalIgnoreCase);
        if (!looksLikePath) return module;
        string full = caller.SessionState.Path.GetUnresolvedProviderPathFromPSPath(module);
        if (!File.Exists(full) && !Directory.Exists(full))
            throw new ItemNotFoundException($"The module '{module}' given to -ImportModule was not found at '{full}'.");
        return full;
    }

    /// <summary>(name, definition) of each function named (wildcards allowed) in -ImportFunction.</summary>
    private static IEnumerable<KeyValuePair<string, string>> Functions(PSCmdlet caller, string[]? names)
    {
        if (names is null) yield break;
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (string name in names)
        {
            bool pattern = WildcardPattern.ContainsWildcardCharacters(name);
            var found = caller.InvokeCommand.GetCommands(name, CommandTypes.Function | CommandTypes.Filter, pattern)
                .OfType<FunctionInfo>().ToList();
            if (found.Count == 0 && !pattern)
            {
                throw new ItemNotFoundException(
                    $"The function '{name}' given to -ImportFunction is not defined in the caller's session. Define it (or dot-source its file) first.");
            }
            foreach (var function in found)
            {
                if (!seen.Add(function.Name)) continue;
                // Functions travel as text, like scripts: each runspace defines its own copy.
                string body = function.Definition;
                if (function is FilterInfo) body = "process {\n" + body + "\n}";
                yield return new KeyValuePair<string, string>(function.Name, body);
            }
        }
    }

}

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
                writeError(new ErrorRecord(new ItemNotFoundException($"No parallel task with id {id} exists (it may have been removed). List tasks with Get-ParallelTask."),
                    "SyncPool.TaskNotFound", ErrorCategory.ObjectNotFound, id));
            }
        }
    }

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

/// <summary>
/// Builds the hashtable of -AsHashtable: each task's input is the key and
/// its output the value (nothing: $null; one object: that object; several:
/// an array), the "results keyed by input" the runspace templates build by
/// hand with a synchronized hashtable. Keys compare like @{} keys
/// (case-insensitive strings).
/// </summary>
internal sealed class ResultTable(Cmdlet cmdlet)
{
    private readonly Cmdlet _cmdlet = cmdlet;

    public Hashtable Table { get; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// A batch task's output cannot be keyed by input: refused with an error
    /// before anything is taken from the task, so nothing is lost.
    /// </summary>
    public void RefuseBatch(ParallelTask task) =>
        _cmdlet.WriteError(new ErrorRecord(
            new InvalidOperationException($"Task {task.Id} ran a batch of {((TaskBatch)task.Input!).Count} items (-BatchSize), so its output cannot be " +
                                          "keyed by input. Its output is kept: receive it without -AsHashtable, or start the tasks without -BatchSize."),
            "SyncPool.BatchNotKeyed", ErrorCategory.InvalidOperation, task));

    public void Add(ParallelTask task, List<object?> output)
    {
        object key = KeyOf(task);
        if (Table.ContainsKey(key))
            _cmdlet.WriteWarning($"More than one task has the input '{key}'; -AsHashtable keeps the output of the last one (task {task.Id}).");
        Table[key] = output.Count switch
        {
            0 => null,
            1 => output[0],
            _ => output.ToArray(),
        };
    }

    /// <summary>The input (unwrapped unless it is a custom object), or the task's name for a task without input.</summary>
    private static object KeyOf(ParallelTask task)
    {
        if (!task.HasInput || task.Input is null) return task.Name;
        return task.Input is PSObject pso && pso.BaseObject is not PSCustomObject ? pso.BaseObject : task.Input;
    }
}

/// <summary>
/// Re-emits what tasks produced through a cmdlet's own streams, in the order
/// the task wrote it: output with WriteObject, errors with WriteError (the
/// original ErrorRecord), and so on. The caller's -ErrorAction,
/// -WarningVariable, redirections and preferences then apply as if the
/// script had run in the caller.
/// </summary>
internal sealed class TaskResultWriter(Cmdlet cmdlet)
{
    private readonly Cmdlet _cmdlet = cmdlet;

    /// <summary>Emits the items of <paramref name="task"/>; output goes to <paramref name="collectOutput"/> instead of the pipeline when given.</summary>
    public void Write(ParallelTask task, IReadOnlyList<TaskItem> items, List<object?>? collectOutput = null)
    {
        foreach (var item in items)
        {
            if (item.IsOutput)
            {
                if (collectOutput is not null) collectOutput.Add(item.Output);
                else _cmdlet.WriteObject(item.Output);
                continue;
            }
            var record = item.Record!;
            switch (record.Stream, record.Data)
            {
                case (TaskStream.Error, ErrorRecord error):
                    _cmdlet.WriteError(error);
                    break;
                case (TaskStream.Error, Exception fault):
                    _cmdlet.WriteError(new ErrorRecord(fault, "SyncPool.TaskFault", ErrorCategory.NotSpecified, task));
                    break;
                case (TaskStream.Warning, WarningRecord warning):
                    _cmdlet.WriteWarning(warning.Message);
                    break;
                case (TaskStream.Verbose, VerboseRecord verbose):
                    _cmdlet.WriteVerbose(verbose.Message);
                    break;
                case (TaskStream.Debug, DebugRecord debug):
                    _cmdlet.WriteDebug(debug.Message);
                    break;
                case (TaskStream.Information, InformationRecord information):
                    _cmdlet.WriteInformation(information);
                    break;
                case (TaskStream.Progress, ProgressRecord progress):
                    _cmdlet.WriteProgress(progress);
                    break;
                case (TaskStream.Warning, var other):
                    _cmdlet.WriteWarning(other.ToString());
                    break;
                case (TaskStream.Verbose, var other):
                    _cmdlet.WriteVerbose(other.ToString() ?? "");
                    break;
                case (TaskStream.Debug, var other):
                    _cmdlet.WriteDebug(other.ToString() ?? "");
                    break;
                default:
                    _cmdlet.WriteInformation(record.Data, new[] { "SyncPool", record.Stream.ToString() });
                    break;
            }
        }
    }
}

/// <summary>What Receive-ParallelTask and Wait-ParallelTask -Receive do with each task.</summary>
internal sealed class TaskReceiver
{
    private readonly Cmdlet _cmdlet;
    private readonly bool _keep;
    private readonly TaskResultWriter _writer;
    private readonly ResultTable? _table;

    public TaskReceiver(Cmdlet cmdlet, bool keep, bool asHashtable)
    {
        _cmdlet = cmdlet;
        _keep = keep;
        _writer = new TaskResultWriter(cmdlet);
        _table = asHashtable ? new ResultTable(cmdlet) : null;
    }

    /// <summary>
    /// Writes what <paramref name="task"/> produced so far. Without -Keep, a
    /// finished task is then removed (it leaves Get-ParallelTask; the object
    /// keeps its state), so receiving in a loop leaves nothing behind.
    /// </summary>
    public void Receive(ParallelTask task)
    {
        if (_table is not null && task.IsBatch)
        {
            _table.RefuseBatch(task);
            return;
        }
        // One crossing: the state, whether it was still listed, and (draining) its removal once finished.
        var settled = NativeCall.Run(() => task.Native.Settle(!_keep));
        var state = settled.state;
        bool listed = settled.was_listed.Is;
        var items = task.Results.Take(_keep);
        if (_table is null)
        {
            _writer.Write(task, items);
        }
        else
        {
            var output = new List<object?>();
            _writer.Write(task, items, output);
            _table.Add(task, output);
        }
        if (!listed) return;
        if (state == TaskState.Stopped || state == TaskState.TimedOut)
        {
            string what = task.HasInput && !task.IsBatch ? $" (input '{task.Input}')" : "";
            _cmdlet.WriteWarning($"Task {task.Id} '{task.Name}'{what} ended {state}: {task.StatusMessage ?? state.ToString()}. Its output may be incomplete.");
        }
    }

    /// <summary>Writes the hashtable, with -AsHashtable.</summary>
    public void Complete()
    {
        if (_table is not null) _cmdlet.WriteObject(_table.Table);
    }
}
