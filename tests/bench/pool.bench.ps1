<#
.SYNOPSIS
    PowerShell-level benchmarks of Start-ParallelTask / Wait-ParallelTask against
    ForEach-Object -Parallel, Start-ThreadJob and a hand-written RunspacePool.

.DESCRIPTION
    Measures, inside one PowerShell process, what the engine issue sets targets
    for (every ratio from this same run; best and median of -Runs runs):

      1. Many trivial items ({ $_ * 2 }, default 10,000) at throttle 5, the plain
         README pipeline Start-ParallelTask | Wait-ParallelTask -Receive (no
         -BatchSize: the engine batches by itself), against
           - ForEach-Object -Parallel                      (target: >= 10x faster)
           - the seed's RunspacePool template (one PowerShell + BeginInvoke per
             item, results in a synchronized hashtable, a polling loop)
                                                           (target: >= 3x faster)
           - sequential ForEach-Object { $_ * 2 }          (target: <= 3x its time)
         with -BatchSize and a warm named pool printed beside them.
      2. 200 tasks each sleeping 50 ms at throttle 20: a warm (second) call
         against the ideal ceil(200 / 20) * 50 ms (target <= 1.10x), and a cold
         call (new runspaces) against a cold ForEach-Object -Parallel (target: no
         slower); Start-ThreadJob printed beside them.
      3. A single trivial task on a warm pool, from just before Start-ParallelTask
         to its result received (median target <= 1 ms), and the wake-up after
         the last of 100 tasks ends until Wait-ParallelTask returns (median
         target <= 5 ms).
      4. Memory: the README pipeline in a loop for 100,000 items: process working
         set growth after warm-up and a full GC (target <= 20 MB), and no task or
         pool left in Get-ParallelTask / Get-ParallelPool.

    $ProgressPreference is SilentlyContinue for all variants (no progress
    rendering in any of them). Results are printed and written as markdown to
    <ResultsDir>/pool-<yyyyMMdd-HHmmss>.md and <ResultsDir>/pool-latest.md.

.PARAMETER ModulePath
    The staged module folder (out/SyncPool) or its manifest.

.PARAMETER ResultsDir
    Folder for the markdown results (created if missing).

.PARAMETER Items
    Trivial items for section 1 (shrink it for a quick run).

.PARAMETER ThrottleLimit
    Throttle of every variant in sections 1 and 3, and of the pool in section 4.

.PARAMETER BatchSize
    Items per task for the -BatchSize variant.

.PARAMETER TemplatePollMilliseconds
    Sleep between polls of the RunspacePool template (the template's own value is 250).

.PARAMETER SleepTasks
    Tasks in section 2.

.PARAMETER SleepMilliseconds
    How long each task of section 2 sleeps.

.PARAMETER SleepThrottle
    Throttle of every variant in section 2.

.PARAMETER LatencySamples
    Single tasks started and received one at a time for the round-trip latency.

.PARAMETER WakeSamples
    Groups of tasks waited on for the wake-up latency.

.PARAMETER WakeGroup
    Tasks in each wake-up group.

.PARAMETER WakeSleepMilliseconds
    How long the tasks of a wake-up group sleep (so Wait-ParallelTask is blocked when they end).

.PARAMETER ChurnTasks
    Items run through the README pipeline for the memory measurement.

.PARAMETER ChurnBatch
    Items per pipeline (one Start-ParallelTask | Wait-ParallelTask -Receive call) in the memory measurement.

.PARAMETER Runs
    Timed runs per measurement (the best is reported).

.PARAMETER WarmupRuns
    Untimed runs of each variant of section 1 before its timed ones (ForEach-Object -Parallel
    excepted: it starts new runspaces each time, and takes seconds).

.PARAMETER Section
    Which of the four sections to run (all by default).

.EXAMPLE
    pwsh -NoProfile -File tests/bench/pool.bench.ps1 -ModulePath ./out/SyncPool -ResultsDir ./tests/bench/results

    What the build's Bench task runs (the issue's sizes).

.EXAMPLE
    pwsh -NoProfile -File tests/bench/pool.bench.ps1 -ModulePath ./out/SyncPool -ResultsDir /tmp/bench -Items 1000 -ChurnTasks 10000 -Runs 1

    A quick run with smaller sizes.
#>
#Requires -Version 7.4
[CmdletBinding()]
param(
    [Parameter(Mandatory)][string]$ModulePath,
    [Parameter(Mandatory)][string]$ResultsDir,
    [ValidateRange(1, 10000000)][int]$Items = 10000,
    [ValidateRange(1, 1024)][int]$ThrottleLimit = 5,
    [ValidateRange(1, 10000000)][int]$BatchSize = 500,
    [ValidateRange(1, 10000)][int]$TemplatePollMilliseconds = 250,
    [ValidateRange(1, 1000000)][int]$SleepTasks = 200,
    [ValidateRange(1, 60000)][int]$SleepMilliseconds = 50,
    [ValidateRange(1, 1024)][int]$SleepThrottle = 20,
    [ValidateRange(1, 100000)][int]$LatencySamples = 200,
    [ValidateRange(1, 100000)][int]$WakeSamples = 50,
    [ValidateRange(1, 10000)][int]$WakeGroup = 100,
    [ValidateRange(1, 10000)][int]$WakeSleepMilliseconds = 30,
    [ValidateRange(1, 100000000)][int]$ChurnTasks = 100000,
    [ValidateRange(1, 1000000)][int]$ChurnBatch = 5000,
    [ValidateRange(1, 10)][int]$Runs = 3,
    [ValidateRange(0, 100)][int]$WarmupRuns = 5,
    [ValidateSet('Trivial', 'Sleep', 'Latency', 'Churn')][string[]]$Section = @('Trivial', 'Sleep', 'Latency', 'Churn')
)

$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'

$ModulePath = (Resolve-Path -LiteralPath $ModulePath).ProviderPath
$ResultsDir = $ExecutionContext.SessionState.Path.GetUnresolvedProviderPathFromPSPath($ResultsDir)
$null = New-Item -ItemType Directory -Force -Path $ResultsDir
Import-Module $ModulePath -Force

$script:Pools = [System.Collections.Generic.List[object]]::new()
$script:Last = $null
$script:PoolSuffix = [guid]::NewGuid().ToString('N').Substring(0, 8)

# ---- helpers ----------------------------------------------------------------------

. (Join-Path $PSScriptRoot 'BenchSupport.ps1')

# Nearest-rank percentile.
function Get-Percentile {
    param([double[]]$Values, [double]$Percent)
    if ($null -eq $Values -or $Values.Count -eq 0) { return [double]::NaN }
    $sorted = @($Values | Sort-Object)
    $index = [int][math]::Ceiling($Percent / 100.0 * $sorted.Count) - 1
    if ($index -lt 0) { $index = 0 }
    if ($index -ge $sorted.Count) { $index = $sorted.Count - 1 }
    [double]$sorted[$index]
}

# Runs $MeasureBody $MeasureRuns times (then $MeasureAfter, untimed) and returns the
# best and median wall time in seconds. The body runs in a child scope of this
# function, so these names are deliberately unusual (the body sees the script's
# variables); a body hands its result back through $script:Last.
function Measure-Best {
    param(
        [Parameter(Mandatory)][scriptblock]$MeasureBody,
        [scriptblock]$MeasureAfter,
        [int]$MeasureRuns = 3,
        [int]$WarmupRuns = 0
    )
    # Untimed runs first: .NET compiles PowerShell's and SyncPool's hot paths in tiers, over many calls.
    for ($measureRun = 0; $measureRun -lt $WarmupRuns; $measureRun++) {
        $null = & $MeasureBody
        if ($MeasureAfter) { $null = & $MeasureAfter }
    }
    $measureTimes = [System.Collections.Generic.List[double]]::new()
    for ($measureRun = 0; $measureRun -lt $MeasureRuns; $measureRun++) {
        $script:Last = $null
        [GC]::Collect()
        [GC]::WaitForPendingFinalizers()
        $measureWatch = [System.Diagnostics.Stopwatch]::StartNew()
        $null = & $MeasureBody
        $measureWatch.Stop()
        $measureTimes.Add($measureWatch.Elapsed.TotalSeconds)
        if ($MeasureAfter) { $null = & $MeasureAfter }
    }
    [pscustomobject]@{
        Best   = [double]($measureTimes | Measure-Object -Minimum).Minimum
        Median = Get-Median $measureTimes.ToArray()
        Times  = $measureTimes.ToArray()
    }
}

# Forgets every finished task (tasks of per-call pools included, which lets those pools go).
function Clear-Tasks {
    Get-ParallelTask | Remove-ParallelTask -Force -Confirm:$false
}

function New-BenchPool {
    param([int]$Throttle, [string]$Purpose, [hashtable]$Variable)
    $name = "bench-$Purpose-$($script:PoolSuffix)"
    $pool = if ($Variable) {
        New-ParallelPool -Name $name -ThrottleLimit $Throttle -Variable $Variable
    }
    else {
        New-ParallelPool -Name $name -ThrottleLimit $Throttle
    }
    $script:Pools.Add($pool)
    $pool
}

# Makes sure every worker of a pool exists and has run a task: $Throttle tasks that
# overlap in time, so each worker takes one.
function Initialize-BenchPool {
    param($Pool, [int]$Throttle)
    $tasks = 1..$Throttle | Start-ParallelTask { Start-Sleep -Milliseconds 200; $_ } -Pool $Pool
    $null = $tasks | Wait-ParallelTask -Receive
    $tasks | Remove-ParallelTask
}

# The result of a { $_ * 2 } run over 1..$Count: $Count values summing to $Count * ($Count + 1).
function Test-Doubled {
    param($Result, [int]$Count, [string]$What)
    $n = if ($null -eq $Result) { 0 } else { @($Result).Count }
    [long]$sum = 0
    foreach ($v in $Result) { $sum += [long]$v }
    $expected = [long]$Count * ($Count + 1)
    if ($n -ne $Count -or $sum -ne $expected) {
        Add-Failure "$What returned $n results summing to $sum; expected $Count summing to $expected."
    }
}

function Test-AllCompleted {
    param($Tasks, [int]$Count, [string]$What)
    $all = @($Tasks)
    $bad = @($all | Where-Object { $_.State -ne 'Completed' })
    if ($all.Count -ne $Count -or $bad.Count -gt 0) {
        Add-Failure "$What ended with $($all.Count) tasks, $($bad.Count) not Completed (states: $((@($bad | ForEach-Object { $_.State }) | Sort-Object -Unique) -join ', '))."
    }
}

# ---- the runspace template (seed) ------------------------------------------------------

# The seed's RunspacePool template with its ping replaced by the trivial work: the
# initial session state carries a synchronized hashtable for results, one PowerShell
# instance and BeginInvoke per item, and a loop that collects finished instances and
# sleeps between polls. (The seed's ApartmentState = 'STA' is left out: it only means
# something on Windows, and the other variants do not set it.)
function Invoke-RunspaceTemplate {
    param([object[]]$InputItems, [int]$MaximumThreadCount, [int]$PollMilliseconds)

    $InitialSessionState = [System.Management.Automation.Runspaces.InitialSessionState]::CreateDefault()
    $Data = [hashtable]::Synchronized(@{})
    $InitialSessionState.Variables.Add(
        (New-Object -TypeName System.Management.Automation.Runspaces.SessionStateVariableEntry -ArgumentList 'Data', $Data, ''))
    $RunspacePool = [System.Management.Automation.Runspaces.RunspaceFactory]::CreateRunspacePool(1, $MaximumThreadCount, $InitialSessionState, $Host)
    $RunspacePool.Open()

    $ScriptBlock = {
        param($Item)
        $Data[$Item] = $Item * 2
    }

    [decimal]$ID = 0
    $Runspaces = @(foreach ($Item in $InputItems) {
            $PowerShellInstance = [System.Management.Automation.PowerShell]::Create().AddScript($ScriptBlock)
            [void]$PowerShellInstance.AddParameter('Item', $Item)
            $PowerShellInstance.RunspacePool = $RunspacePool
            [pscustomobject]@{
                Handle     = $PowerShellInstance.BeginInvoke()
                PowerShell = $PowerShellInstance
                ID         = ++$ID
            }
        })

    try {
        while ($true) {
            $FinishedRunspaces = @($Runspaces | Where-Object { $null -ne $_.Handle -and $_.Handle.IsCompleted })
            foreach ($Finished in $FinishedRunspaces) {
                [void]$Finished.PowerShell.EndInvoke($Finished.Handle)
                $Finished.PowerShell.Dispose()
                $Finished.PowerShell, $Finished.Handle = $null, $null
            }
            if (@($Runspaces | Where-Object { $null -ne $_.Handle }).Count -eq 0) { break }
            Start-Sleep -Milliseconds $PollMilliseconds
        }
    }
    finally {
        foreach ($Left in $Runspaces) {
            if ($null -ne $Left.PowerShell) { $Left.PowerShell.Dispose() }
        }
        $RunspacePool.Close()
        $RunspacePool.Dispose()
    }
    , $Data
}

# ---- 1. many trivial items ------------------------------------------------------------

# "a / b" for best and median, and the verdict on the best (ratios below 1: faster).
function Write-RatioRow {
    param([string]$Name, $A, $B, [double]$Limit, [string]$TargetText, [ValidateSet('AtMost', 'AtLeast')][string]$Direction = 'AtMost', [switch]$Inverse)
    $best = if ($Inverse) { $B.Best / $A.Best } else { $A.Best / $B.Best }
    $median = if ($Inverse) { $B.Median / $A.Median } else { $A.Median / $B.Median }
    Write-Report "| $Name | $(Format-Number $best 'N2') | $(Format-Number $median 'N2') | $TargetText | $(Get-Verdict $best $Limit $Direction) |"
}

function Invoke-TrivialBench {
    $InputItems = 1..$Items
    Write-Report "## 1. $(Format-Number $Items 'N0') trivial items, throttle $ThrottleLimit"
    Write-Report ''
    Write-Report ('Script `{ $_ * 2 }` over 1..' + "$Items; each variant collects all results into a variable (checked: count and sum). Best and median of $Runs runs (SyncPool per-call and named: at least 5, alternating), after untimed warm-up runs of each variant but ForEach-Object -Parallel. The SyncPool row is the README pipeline as written: no -BatchSize, a pool per call.")
    Write-Report ''

    # Warm-up: load and compile every path once (untimed). .NET compiles hot code in tiers over
    # many calls, so SyncPool's paths (per-call and named pool) run a while first, alternately,
    # so that neither variant is measured while the other already had the compiled code.
    $warmupPool = New-BenchPool -Throttle $ThrottleLimit -Purpose 'jit'
    for ($w = 0; $w -lt 4 * $WarmupRuns; $w++) {
        $null = $InputItems | Start-ParallelTask { $_ * 2 } -ThrottleLimit $ThrottleLimit | Wait-ParallelTask -Receive
        $null = $InputItems | Start-ParallelTask { $_ * 2 } -Pool $warmupPool | Wait-ParallelTask -Receive
    }
    $null = 1..2 | ForEach-Object -Parallel { $_ * 2 } -ThrottleLimit 2
    $null = Invoke-RunspaceTemplate -InputItems @(1, 2) -MaximumThreadCount 2 -PollMilliseconds 10
    $null = 1..2 | ForEach-Object { $_ * 2 }

    # The per-call and the named pool are measured in alternation (the named pool is warm), so a
    # noisy moment of the machine falls on both alike.
    $warmPool = New-BenchPool -Throttle $ThrottleLimit -Purpose 'trivial'
    Initialize-BenchPool -Pool $warmPool -Throttle $ThrottleLimit
    $perCallTimes = [System.Collections.Generic.List[double]]::new()
    $namedTimes = [System.Collections.Generic.List[double]]::new()
    for ($run = 0; $run -lt [math]::Max($Runs, 5); $run++) {
        $script:Last = $null
        [GC]::Collect()
        $watch = [System.Diagnostics.Stopwatch]::StartNew()
        $script:Last = $InputItems | Start-ParallelTask { $_ * 2 } -ThrottleLimit $ThrottleLimit | Wait-ParallelTask -Receive
        $perCallTimes.Add($watch.Elapsed.TotalSeconds)
        Test-Doubled $script:Last $Items 'Start-ParallelTask | Wait-ParallelTask -Receive'
        $script:Last = $null
        [GC]::Collect()
        $watch = [System.Diagnostics.Stopwatch]::StartNew()
        $script:Last = $InputItems | Start-ParallelTask { $_ * 2 } -Pool $warmPool | Wait-ParallelTask -Receive
        $namedTimes.Add($watch.Elapsed.TotalSeconds)
        Test-Doubled $script:Last $Items 'Start-ParallelTask -Pool'
    }
    $syncPool = [pscustomobject]@{ Best = [double]($perCallTimes | Measure-Object -Minimum).Minimum; Median = Get-Median $perCallTimes.ToArray() }
    $named = [pscustomobject]@{ Best = [double]($namedTimes | Measure-Object -Minimum).Minimum; Median = Get-Median $namedTimes.ToArray() }

    $foreachParallel = Measure-Best -MeasureRuns $Runs -MeasureBody {
        $script:Last = $InputItems | ForEach-Object -Parallel { $_ * 2 } -ThrottleLimit $ThrottleLimit
    }
    Test-Doubled $script:Last $Items 'ForEach-Object -Parallel'

    $template = Measure-Best -MeasureRuns $Runs -WarmupRuns $WarmupRuns -MeasureBody {
        $templateData = Invoke-RunspaceTemplate -InputItems $InputItems -MaximumThreadCount $ThrottleLimit -PollMilliseconds $TemplatePollMilliseconds
        $script:Last = @($templateData.Values)
    }
    Test-Doubled $script:Last $Items 'RunspacePool template'

    $batched = Measure-Best -MeasureRuns $Runs -WarmupRuns $WarmupRuns -MeasureBody {
        $script:Last = $InputItems | Start-ParallelTask { $_ * 2 } -ThrottleLimit $ThrottleLimit -BatchSize $BatchSize | Wait-ParallelTask -Receive
    }
    Test-Doubled $script:Last $Items 'Start-ParallelTask -BatchSize'


    $sequential = Measure-Best -MeasureRuns $Runs -WarmupRuns $WarmupRuns -MeasureBody {
        $script:Last = $InputItems | ForEach-Object { $_ * 2 }
    }
    Test-Doubled $script:Last $Items 'ForEach-Object (sequential)'

    # The floor of any per-item design in PowerShell: every item crosses two cmdlets' parameter
    # binding (Start-ParallelTask's InputObject, Wait-ParallelTask's Task) and two WriteObject calls.
    $twoCmdlets = Measure-Best -MeasureRuns $Runs -WarmupRuns $WarmupRuns -MeasureBody {
        $script:Last = $InputItems | ForEach-Object { $_ * 2 } | Write-Output | Write-Output
    }
    Test-Doubled $script:Last $Items 'ForEach-Object | Write-Output | Write-Output'

    $script:Last = $null
    $perItem = { param($t) Format-Number ($t.Best / $Items * 1e6) 'N1' }
    Write-Report '| variant | best (s) | median (s) | per item (us, best) |'
    Write-Report '|---|---|---|---|'
    Write-Report "| Start-ParallelTask \| Wait-ParallelTask -Receive (per-call pool, as in README) | $(Format-Number $syncPool.Best 'N3') | $(Format-Number $syncPool.Median 'N3') | $(& $perItem $syncPool) |"
    Write-Report "| Start-ParallelTask -Pool (named, warm) \| Wait-ParallelTask -Receive | $(Format-Number $named.Best 'N3') | $(Format-Number $named.Median 'N3') | $(& $perItem $named) |"
    Write-Report "| Start-ParallelTask -BatchSize $BatchSize \| Wait-ParallelTask -Receive | $(Format-Number $batched.Best 'N3') | $(Format-Number $batched.Median 'N3') | $(& $perItem $batched) |"
    Write-Report "| ForEach-Object -Parallel | $(Format-Number $foreachParallel.Best 'N3') | $(Format-Number $foreachParallel.Median 'N3') | $(& $perItem $foreachParallel) |"
    Write-Report "| RunspacePool template (BeginInvoke per item, poll every $TemplatePollMilliseconds ms) | $(Format-Number $template.Best 'N3') | $(Format-Number $template.Median 'N3') | $(& $perItem $template) |"
    Write-Report ('| sequential `ForEach-Object { $_ * 2 }` | ' + "$(Format-Number $sequential.Best 'N3') | $(Format-Number $sequential.Median 'N3') | $(& $perItem $sequential) |")
    Write-Report ('| floor: `ForEach-Object { $_ * 2 } | Write-Output | Write-Output` (the same work through two more cmdlets) | ' + "$(Format-Number $twoCmdlets.Best 'N3') | $(Format-Number $twoCmdlets.Median 'N3') | $(& $perItem $twoCmdlets) |")
    Write-Report ''
    Write-Report '| ratio (wall time) | best | median | target | verdict (best) |'
    Write-Report '|---|---|---|---|---|'
    Write-RatioRow 'ForEach-Object -Parallel / SyncPool (times faster)' $syncPool $foreachParallel 10 '>= 10' 'AtLeast' -Inverse
    Write-RatioRow 'RunspacePool template / SyncPool (times faster)' $syncPool $template 3 '>= 3' 'AtLeast' -Inverse
    Write-RatioRow 'SyncPool / sequential ForEach-Object' $syncPool $sequential 3 '<= 3'
    Write-RatioRow 'SyncPool named pool / SyncPool per-call pool' $named $syncPool 1.0 '<= 1 (never slower)'
    Write-Report ''
    $taskCost = ($syncPool.Best - $batched.Best) / $Items * 1e6
    Write-Report ("Where the time goes: -BatchSize $BatchSize runs the same items in $([math]::Ceiling($Items / $BatchSize)) tasks in $(Format-Number $batched.Best 'N3') s, so the engine, the workers and the item-by-item pipeline " +
        "cost little; the rest of the README row is the cost of one task per item, $(Format-Number $taskCost 'N1') us each (a task object, its submission, its own results, " +
        "and one more object through each cmdlet's parameter binding). Passing the items through two extra cmdlets alone costs $(Format-Number ($twoCmdlets.Best / $sequential.Best) 'N2') times the sequential time.")
    Write-Report ''
}

# ---- 2. sleeping tasks: scheduling overhead ---------------------------------------------

function Invoke-SleepBench {
    $ideal = [math]::Ceiling([double]$SleepTasks / $SleepThrottle) * $SleepMilliseconds / 1000.0
    Write-Report "## 2. $SleepTasks tasks sleeping $SleepMilliseconds ms, throttle $SleepThrottle"
    Write-Report ''
    Write-Report "Ideal wall time: ceil($SleepTasks / $SleepThrottle) x $SleepMilliseconds ms = $(Format-Number $ideal 'N3') s. Best and median of $Runs runs. Cold: every run needs new runspaces (each SyncPool run imports a function no earlier run did, so no warm runspace fits it; ForEach-Object -Parallel always starts cold). Warm: a second call with the same setup, whose runspaces the engine kept."
    Write-Report ''

    $script:ColdRun = 0
    $cold = Measure-Best -MeasureRuns $Runs -MeasureAfter { $script:Last | Remove-ParallelTask } -MeasureBody {
        $script:ColdRun++
        $coldName = "Get-BenchCold$($script:PoolSuffix)$($script:ColdRun)"
        Set-Item -Path "function:global:$coldName" -Value { 1 }
        $script:Last = 1..$SleepTasks | Start-ParallelTask { Start-Sleep -Milliseconds $using:SleepMilliseconds } -ThrottleLimit $SleepThrottle -ImportFunction $coldName | Wait-ParallelTask
        Test-AllCompleted $script:Last $SleepTasks 'Sleeping tasks (cold)'
    }

    $null = 1..$SleepTasks | Start-ParallelTask { Start-Sleep -Milliseconds $using:SleepMilliseconds } -ThrottleLimit $SleepThrottle | Wait-ParallelTask -Receive
    $warm = Measure-Best -MeasureRuns $Runs -MeasureAfter { $script:Last | Remove-ParallelTask } -MeasureBody {
        $script:Last = 1..$SleepTasks | Start-ParallelTask { Start-Sleep -Milliseconds $using:SleepMilliseconds } -ThrottleLimit $SleepThrottle | Wait-ParallelTask
        Test-AllCompleted $script:Last $SleepTasks 'Sleeping tasks (warm)'
    }
    $script:Last = $null

    $null = 1..2 | ForEach-Object -Parallel { Start-Sleep -Milliseconds 1 } -ThrottleLimit 2
    $foreachParallel = Measure-Best -MeasureRuns $Runs -MeasureBody {
        $script:Last = 1..$SleepTasks | ForEach-Object -Parallel { Start-Sleep -Milliseconds $using:SleepMilliseconds } -ThrottleLimit $SleepThrottle
    }

    $jobs = $null
    $threadJob = Get-Command -Name Start-ThreadJob -ErrorAction SilentlyContinue
    if ($threadJob) {
        $warmJob = Start-ThreadJob -ScriptBlock { 1 }
        $null = $warmJob | Wait-Job
        $warmJob | Remove-Job -Force
        $jobs = Measure-Best -MeasureRuns $Runs -MeasureAfter { $script:Last | Remove-Job -Force } -MeasureBody {
            $started = foreach ($n in 1..$SleepTasks) {
                Start-ThreadJob -ScriptBlock { param($ms) Start-Sleep -Milliseconds $ms } -ArgumentList $SleepMilliseconds -ThrottleLimit $SleepThrottle
            }
            $null = $started | Wait-Job
            $script:Last = $started
        }
        $script:Last = $null
    }

    Write-Report '| variant | best (s) | median (s) | best / ideal |'
    Write-Report '|---|---|---|---|'
    Write-Report "| Start-ParallelTask \| Wait-ParallelTask, warm (second call) | $(Format-Number $warm.Best 'N3') | $(Format-Number $warm.Median 'N3') | $(Format-Number ($warm.Best / $ideal) 'N3') |"
    Write-Report "| Start-ParallelTask \| Wait-ParallelTask, cold (new runspaces) | $(Format-Number $cold.Best 'N3') | $(Format-Number $cold.Median 'N3') | $(Format-Number ($cold.Best / $ideal) 'N3') |"
    Write-Report "| ForEach-Object -Parallel (cold by design) | $(Format-Number $foreachParallel.Best 'N3') | $(Format-Number $foreachParallel.Median 'N3') | $(Format-Number ($foreachParallel.Best / $ideal) 'N3') |"
    if ($jobs) { Write-Report "| Start-ThreadJob -ThrottleLimit $SleepThrottle \| Wait-Job ($($threadJob.Source)) | $(Format-Number $jobs.Best 'N3') | $(Format-Number $jobs.Median 'N3') | $(Format-Number ($jobs.Best / $ideal) 'N3') |" }
    else { Write-Report '| Start-ThreadJob | not available in this PowerShell | | |' }
    Write-Report ''
    $warmRatio = $warm.Best / $ideal
    $warmMedian = $warm.Median / $ideal
    Write-Report '| ratio | best | median | target | verdict (best) |'
    Write-Report '|---|---|---|---|---|'
    Write-Report "| warm SyncPool / ideal | $(Format-Number $warmRatio 'N3') | $(Format-Number $warmMedian 'N3') | <= 1.10 | $(Get-Verdict $warmRatio 1.10 'AtMost') |"
    Write-RatioRow 'cold SyncPool / ForEach-Object -Parallel' $cold $foreachParallel 1.0 '<= 1 (no slower)'
    Write-Report ''
}

# ---- 3. round trip and wake-up latency on a warm pool --------------------------------------

function Invoke-LatencyBench {
    Write-Report "## 3. latency on a warm pool of $ThrottleLimit"
    Write-Report ''
    Write-Report ("Round trip: $LatencySamples single trivial tasks, each from just before " + '`Start-ParallelTask`' + ' to its result received by ' + '`Wait-ParallelTask -Receive`' + ' (so it includes both cmdlets'' own work).')
    Write-Report ("Wake-up: $WakeSamples groups of $WakeGroup tasks sleeping $WakeSleepMilliseconds ms plus up to 10 ms; each task's last statement stores its end timestamp; latency = the moment " + '`Wait-ParallelTask`' + ' returns minus the latest end timestamp of the group.')
    Write-Report ''

    $stamps = New-SyncTable
    $pool = New-BenchPool -Throttle $ThrottleLimit -Purpose 'latency' -Variable @{ BenchStamps = $stamps }
    Initialize-BenchPool -Pool $pool -Throttle $ThrottleLimit
    $frequency = [double][System.Diagnostics.Stopwatch]::Frequency

    # Warm the exact commands measured below.
    for ($i = 0; $i -lt 20; $i++) {
        $null = Start-ParallelTask -Pool $pool -InputObject $i -ScriptBlock { $_ } | Wait-ParallelTask -Receive
    }

    $roundTrip = [System.Collections.Generic.List[double]]::new()
    for ($i = 0; $i -lt $LatencySamples; $i++) {
        $before = [System.Diagnostics.Stopwatch]::GetTimestamp()
        $got = Start-ParallelTask -Pool $pool -InputObject $i -ScriptBlock { $_ } | Wait-ParallelTask -Receive
        $after = [System.Diagnostics.Stopwatch]::GetTimestamp()
        if ($got -ne $i) { throw "Round-trip sample $i received '$got'." }
        $roundTrip.Add(($after - $before) * 1000.0 / $frequency)
    }

    $wake = [System.Collections.Generic.List[double]]::new()
    for ($i = 0; $i -lt $WakeSamples; $i++) {
        $group = $i
        $tasks = 1..$WakeGroup | Start-ParallelTask -Pool $pool -ScriptBlock {
            $g = $using:group
            Start-Sleep -Milliseconds ($using:WakeSleepMilliseconds + $_ % 10)
            $BenchStamps["e$g-$_"] = [System.Diagnostics.Stopwatch]::GetTimestamp()
        }
        $null = $tasks | Wait-ParallelTask
        $returned = [System.Diagnostics.Stopwatch]::GetTimestamp()
        [long]$lastEnd = 0
        for ($k = 1; $k -le $WakeGroup; $k++) {
            $end = $stamps["e$group-$k"]
            if ($null -eq $end) {
                throw "Wake-up sample $i, task $k recorded no timestamp (states: $((@($tasks | ForEach-Object { $_.State }) | Sort-Object -Unique) -join ', '))."
            }
            if ([long]$end -gt $lastEnd) { $lastEnd = [long]$end }
        }
        $wake.Add(($returned - $lastEnd) * 1000.0 / $frequency)
        $tasks | Remove-ParallelTask
        $stamps.Clear()
    }
    $stamps.Dispose()

    $roundMedian = Get-Median $roundTrip.ToArray()
    $wakeMedian = Get-Median $wake.ToArray()
    Write-Report '| latency (ms) | min | median | p90 | max | target (median) | verdict |'
    Write-Report '|---|---|---|---|---|---|---|'
    Write-Report "| one trivial task: Start-ParallelTask -> result received | $(Format-Number (Get-Percentile $roundTrip.ToArray() 0) 'N3') | $(Format-Number $roundMedian 'N3') | $(Format-Number (Get-Percentile $roundTrip.ToArray() 90) 'N3') | $(Format-Number (Get-Percentile $roundTrip.ToArray() 100) 'N3') | <= 1 | $(Get-Verdict $roundMedian 1.0 'AtMost') |"
    Write-Report "| wake-up: last of $WakeGroup tasks ends -> Wait-ParallelTask returned | $(Format-Number (Get-Percentile $wake.ToArray() 0) 'N3') | $(Format-Number $wakeMedian 'N3') | $(Format-Number (Get-Percentile $wake.ToArray() 90) 'N3') | $(Format-Number (Get-Percentile $wake.ToArray() 100) 'N3') | <= 5 | $(Get-Verdict $wakeMedian 5.0 'AtMost') |"
    Write-Report ''
}

# ---- 4. memory over the README pipeline in a loop -----------------------------------------

function Invoke-ChurnBench {
    Write-Report "## 4. memory after $(Format-Number $ChurnTasks 'N0') items through the README pipeline"
    Write-Report ''
    Write-Report ('`$r = $from..$to | Start-ParallelTask { "x$_" } -ThrottleLimit ' + $ThrottleLimit + ' | Wait-ParallelTask -Receive` in a loop, ' + $ChurnBatch + ' items per pipeline, nothing removed by hand. Baseline after two warm pipelines and a full GC; growth measured after a full GC at the end.')
    Write-Report ''

    foreach ($warmRound in 1..2) {
        $null = 1..$ChurnBatch | Start-ParallelTask { "x$_" } -ThrottleLimit $ThrottleLimit | Wait-ParallelTask -Receive
    }
    # Only what this loop leaves counts: start from nothing listed.
    Clear-Tasks
    $tasksBefore = @(Get-ParallelTask).Count
    $poolsBefore = @(Get-ParallelPool | Where-Object IsPerCall).Count
    if ($tasksBefore -ne 0 -or $poolsBefore -ne 0) { Add-Failure "Before the README pipeline loop, $tasksBefore task(s) and $poolsBefore per-call pool(s) were still listed." }
    Invoke-Settle
    $process = [System.Diagnostics.Process]::GetCurrentProcess()
    $process.Refresh()
    $workingSet0 = $process.WorkingSet64
    $private0 = $process.PrivateMemorySize64
    $managed0 = [GC]::GetTotalMemory($true)

    $watch = [System.Diagnostics.Stopwatch]::StartNew()
    for ($done = 0; $done -lt $ChurnTasks; $done += $ChurnBatch) {
        $count = [math]::Min($ChurnBatch, $ChurnTasks - $done)
        $r = ($done + 1)..($done + $count) | Start-ParallelTask { "x$_" } -ThrottleLimit $ThrottleLimit | Wait-ParallelTask -Receive
        if (@($r).Count -ne $count) { Add-Failure "A pipeline of $count items returned $(@($r).Count) results." }
    }
    $r = $null
    $watch.Stop()

    Invoke-Settle
    $managed1 = [GC]::GetTotalMemory($true)
    $process.Refresh()
    $workingSet1 = $process.WorkingSet64
    $private1 = $process.PrivateMemorySize64
    $tasksLeft = @(Get-ParallelTask).Count
    $poolsLeft = @(Get-ParallelPool | Where-Object IsPerCall).Count

    $mb = 1000.0 * 1000.0
    $managedGrowth = ($managed1 - $managed0) / $mb
    $workingSetGrowth = ($workingSet1 - $workingSet0) / $mb
    $privateGrowth = ($private1 - $private0) / $mb
    Write-Report "Ran in $(Format-Number $watch.Elapsed.TotalSeconds 'N1') s ($(Format-Number ($ChurnTasks / $watch.Elapsed.TotalSeconds) 'N0') items/s); afterwards $tasksLeft task(s) in Get-ParallelTask and $poolsLeft per-call pool(s) in Get-ParallelPool."
    Write-Report ''
    Write-Report '| growth after GC (MB) | before | after | growth | target | verdict |'
    Write-Report '|---|---|---|---|---|---|'
    Write-Report "| process working set (RSS) | $(Format-Number ($workingSet0 / $mb) 'N1') | $(Format-Number ($workingSet1 / $mb) 'N1') | $(Format-Number $workingSetGrowth 'N1') | <= 20 | $(Get-Verdict $workingSetGrowth 20 'AtMost') |"
    Write-Report "| managed, GC.GetTotalMemory(`$true) | $(Format-Number ($managed0 / $mb) 'N1') | $(Format-Number ($managed1 / $mb) 'N1') | $(Format-Number $managedGrowth 'N1') | (info) | info |"
    Write-Report "| process private bytes | $(Format-Number ($private0 / $mb) 'N1') | $(Format-Number ($private1 / $mb) 'N1') | $(Format-Number $privateGrowth 'N1') | (info) | info |"
    Write-Report ''
    if ($tasksLeft -ne 0) { Add-Failure "$tasksLeft task(s) were left in Get-ParallelTask after the README pipeline loop." }
    if ($poolsLeft -ne 0) { Add-Failure "$poolsLeft per-call pool(s) were left in Get-ParallelPool after the README pipeline loop." }
}

# ---- run ----------------------------------------------------------------------------------

Write-Report '# Start-ParallelTask vs ForEach-Object -Parallel, Start-ThreadJob and a RunspacePool (PowerShell level)'
Write-Report ''
Write-EnvironmentReport
Write-Report "- sizes: Items=$Items, ThrottleLimit=$ThrottleLimit, BatchSize=$BatchSize, SleepTasks=$SleepTasks, SleepMilliseconds=$SleepMilliseconds, SleepThrottle=$SleepThrottle, LatencySamples=$LatencySamples, WakeSamples=$WakeSamples, WakeGroup=$WakeGroup, ChurnTasks=$ChurnTasks, ChurnBatch=$ChurnBatch, Runs=$Runs"
Write-Report '- Every ratio compares measurements taken in this same run; absolute numbers depend on the machine. $ProgressPreference = SilentlyContinue throughout.'
Write-Report ''

$scriptWatch = [System.Diagnostics.Stopwatch]::StartNew()
try {
    if ('Trivial' -in $Section) { Invoke-TrivialBench }
    if ('Sleep' -in $Section) { Invoke-SleepBench }
    if ('Latency' -in $Section) { Invoke-LatencyBench }
    if ('Churn' -in $Section) { Invoke-ChurnBench }
}
catch {
    Write-Host $_.ScriptStackTrace
    Add-Failure "The benchmark stopped: $($_.Exception.Message)"
}
finally {
    $scriptWatch.Stop()
    try {
        Clear-Tasks
        foreach ($pool in $script:Pools) { Remove-ParallelPool -Pool $pool -Confirm:$false }
    }
    catch {
        Write-Host "cleanup: $($_.Exception.Message)"
    }
    Write-Report "Total time: $(Format-Number $scriptWatch.Elapsed.TotalSeconds 'N1') s."
    if ($script:Failures.Count -gt 0) {
        Write-Report ''
        Write-Report "**$($script:Failures.Count) failure(s)**: $($script:Failures -join ' ')"
    }
    Save-Report -Name 'pool'
}

if ($script:Failures.Count -gt 0) { exit 1 }
exit 0
