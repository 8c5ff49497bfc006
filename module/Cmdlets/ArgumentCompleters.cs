using System;
using System.Collections;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Language;
using SyncPool.Native;
using SyncPool.Pool;

namespace SyncPool.Cmdlets;

/// <summary>
/// Tab completion for the parameters that name pools, tasks and states
/// (-Pool, -Name, -Id, -State): what exists now, matched by the typed prefix
/// (or wildcard), with a tooltip that says what each one is.
/// </summary>
internal static class Completion
{
    public static IEnumerable<CompletionResult> Matching(string? typed, IEnumerable<(string Text, string Tooltip)> candidates) =>
        Matching(typed, candidates.Select(c => (c.Text, Quote(c.Text), c.Tooltip)));

    /// <summary>
    /// The candidates whose text starts with what was typed (or matches it,
    /// when it holds a wildcard: a typed '[' is no pattern, so names such as
    /// 'a[1]' complete), each once, completed as <c>Argument</c>: the text as
    /// PowerShell must be given it.
    /// </summary>
    public static IEnumerable<CompletionResult> Matching(string? typed, IEnumerable<(string Text, string Argument, string Tooltip)> candidates)
    {
        string word = Unquote(typed ?? "");
        var pattern = new WildcardPattern(word.IndexOfAny(['*', '?']) >= 0 ? word : WildcardPattern.Escape(word) + "*", WildcardOptions.IgnoreCase);
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (text, argument, tooltip) in candidates)
        {
            if (!pattern.IsMatch(text) || !seen.Add(argument)) continue;
            yield return new CompletionResult(argument, text, CompletionResultType.ParameterValue, tooltip);
        }
    }

    private static string Unquote(string word) => word.Trim('\'', '"', '(', ')');

    /// <summary>Quoted when PowerShell would otherwise split or expand it.</summary>
    private static string Quote(string text) =>
        text.Length > 0 && text.All(c => char.IsLetterOrDigit(c) || c is '-' or '_' or '.') ? text : "'" + text.Replace("'", "''") + "'";
}

/// <summary>Completes -Pool (and Get/Remove-ParallelPool -Name) with the names of named pools.</summary>
public sealed class PoolNameCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters) =>
        Completion.Matching(wordToComplete, TaskEngine.Pools()
            .Where(p => p.Name is not null)
            .Select(p => (p.Name!, $"Pool{p.Id}: throttle {p.ThrottleLimit}, {p.Counts.Running} running, {p.Counts.Queued} queued")));
}

/// <summary>Completes -Id of Get-ParallelPool with the ids of the pools.</summary>
public sealed class PoolIdCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters) =>
        Completion.Matching(wordToComplete, TaskEngine.Pools().Select(p => (p.Id.ToString(), p.ToString())));
}

/// <summary>Completes task -Name with the names of listed tasks.</summary>
public sealed class TaskNameCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters) =>
        Completion.Matching(wordToComplete, TaskEngine.Tasks(null, null).Select(t => (t.Name, $"Task {t.Id}: {t.State}")));
}

/// <summary>Completes task -Id with the ids of listed tasks.</summary>
public sealed class TaskIdCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters) =>
        Completion.Matching(wordToComplete, TaskEngine.Tasks(null, null).Select(t => (t.Id.ToString(), $"{t.Name}: {t.State}")));
}

/// <summary>Completes -State with the task states.</summary>
public sealed class TaskStateCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters) =>
        Completion.Matching(wordToComplete, TaskState.All.Select(s => (s.ToString(), $"Tasks that are {s}")));
}

/// <summary>Completes -Name of Get-SyncTable and Remove-SyncTable with the names of named tables.</summary>
public sealed class SyncTableNameCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters) =>
        Completion.Matching(wordToComplete, SyncPool.Table.SyncTableRegistry.All
            .Where(t => t.Name is not null)
            .OrderBy(t => t.Name)
            .Select(t => (t.Name!, $"SyncTable '{t.Name}': {t.Count} entries")));
}

/// <summary>
/// Completes -Key of Wait-SyncTable, Update-SyncTable and Lock-SyncTable
/// with the keys of the table given as -Table (a variable or other value
/// PowerShell evaluates while completing). Text keys that read as numbers
/// are quoted and number keys are not, so the completed key is the stored
/// one (5 and '5' are different keys).
/// </summary>
public sealed class SyncTableKeyCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        var bound = fakeBoundParameters["Table"];
        if ((bound is PSObject wrapped ? wrapped.BaseObject : bound) is not SyncPool.Table.SyncTable table || table.IsDisposed) return [];
        List<object> keys;
        try
        {
            keys = table.Keys.Cast<object>().ToList();
        }
        catch (Exception e) when (e is SyncPoolException or ObjectDisposedException)
        {
            // A Redis server out of reach, or the table removed meanwhile: no
            // completions (PowerShell shows nothing of a completer's errors).
            return [];
        }
        string owner = table.Name is null ? "the SyncTable" : $"SyncTable '{table.Name}'";
        return Completion.Matching(wordToComplete, keys
            .Select(k => (Text: Convert.ToString(k, System.Globalization.CultureInfo.InvariantCulture) ?? "", IsText: k is string))
            .OrderBy(k => k.Text, StringComparer.OrdinalIgnoreCase)
            .Select(k => (k.Text, k.IsText ? QuotedText(k.Text) : NumberArgument(k.Text), $"{(k.IsText ? "Key" : "Number key")} of {owner}")))
            .ToList();
    }

    /// <summary>A number key as an argument: a bare -3 is read as the text '-3', so negatives go in parentheses.</summary>
    private static string NumberArgument(string text) => text.StartsWith('-') ? "(" + text + ")" : text;

    /// <summary>A text key as PowerShell must be given it to read it as that text.</summary>
    private static string QuotedText(string text) =>
        text.Length > 0 && char.IsLetter(text[0]) && text.All(c => char.IsLetterOrDigit(c) || c is '_' or '.')
            ? text
            : "'" + text.Replace("'", "''") + "'";
}
