# Pester 5 suite for what the task engine promises beyond the cmdlets' basics:
# stops and timeouts that end what they should (and nothing else), timeouts
# counted from the start of each script, tiny items batched without losing
# per-item semantics, warm runspaces across calls, nothing left behind.

BeforeAll {
    . $PSScriptRoot/TestSupport.ps1
    Import-Module $env:SYNCPOOL_MODULE_PATH -Force

    function Get-EngineStats { [SyncPool.Native.Interop]::syncpool_engine_stats().AsOk() }

    # Runs $Script in a background PowerShell of this process, waits until $Ready
    # says it is blocked in the wait, then stops it as Ctrl+C does; returns how
    # long Stop() took.
    function Stop-LikeCtrlC([string] $Script, [object[]] $Arguments) {
        $ps = [powershell]::Create()
        $null = $ps.AddScript($Script)
        foreach ($a in $Arguments) { $null = $ps.AddArgument($a) }
        $handle = $ps.BeginInvoke()
        $ready = $Arguments[-1]
        $ready.WaitFor('Go', 30000) | Should -BeTrue
        Start-Sleep -Milliseconds 300
        $sw = [Diagnostics.Stopwatch]::StartNew()
        $ps.Stop()
        $took = $sw.Elapsed
        $ps.InvocationStateInfo.State | Should -Be 'Stopped'
        $null = $handle
        $ps.Dispose()
        $took
    }
}

Describe 'Stopping what a wait waited on' {
    BeforeEach { Register-CurrentTest }
    AfterAll { Get-ParallelTask | Remove-ParallelTask -Force }

    It 'Ctrl+C during Wait-ParallelTask -Receive returns within 1 s and ends every task it waited on Stopped' {
        $tasks = 1..8 | Start-ParallelTask { Start-Sleep -Seconds 30 } -ThrottleLimit 3
        $ready = New-SyncTable
        $took = Stop-LikeCtrlC 'param($m, $tasks, $ready) Import-Module $m; $ready.Go = 1; $tasks | Wait-ParallelTask -Receive' @($env:SYNCPOOL_MODULE_PATH, $tasks, $ready)
        $took.TotalSeconds | Should -BeLessThan 1
        @($tasks | Where-Object State -ne 'Stopped').Count | Should -Be 0
        $tasks[0].StatusMessage | Should -Match 'Wait-ParallelTask'
        # No script is left running: the stopped pipelines ended, so the workers are free again.
        $deadline = [DateTime]::UtcNow.AddSeconds(10)
        while ($tasks[0].Pool.Counts.Workers -gt 0 -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 20 }
        $tasks[0].Pool.Counts.Workers | Should -Be 0
    }

    It 'Ctrl+C while the input still comes stops the tasks Wait-ParallelTask (and Receive-ParallelTask -Wait) had been given' {
        foreach ($waiter in 'Wait-ParallelTask', 'Receive-ParallelTask -Wait') {
            $ready = New-SyncTable
            # The first three tasks reach the waiter; the fourth input never comes before the stop.
            $script = "param(`$m, `$ready) Import-Module `$m; 1..4 | ForEach-Object { if (`$_ -eq 4) { `$ready.Go = 1; Start-Sleep -Seconds 60 }; `$_ } | Start-ParallelTask { Start-Sleep -Seconds 30 } | ForEach-Object { `$ready[`"task`$(`$_.Id)`"] = `$_.Id; `$_ } | $waiter"
            $took = Stop-LikeCtrlC $script @($env:SYNCPOOL_MODULE_PATH, $ready)
            $took.TotalSeconds | Should -BeLessThan 2
            $tasks = @(Get-ParallelTask -Id @(foreach ($key in $ready.Keys) { if ($key -like 'task*') { $ready[$key] } }))
            $tasks.Count | Should -Be 3
            @($tasks | Where-Object State -ne 'Stopped').Count | Should -Be 0 -Because "$waiter was stopped before its wait began: $(($tasks | ForEach-Object { "$($_.Id) $($_.State)" }) -join ', ')"
            $tasks[0].StatusMessage | Should -Match ($waiter -split ' ')[0]
            $tasks | Remove-ParallelTask
        }
    }

    It 'a terminating error while the input still comes stops the tasks Wait-ParallelTask had been given (nobody waits for them)' {
        $ids = New-SyncTable
        { 1..4 | ForEach-Object { if ($_ -eq 4) { throw 'upstream failed' }; $_ } | Start-ParallelTask { Start-Sleep -Seconds 30 } | ForEach-Object { $ids["task$($_.Id)"] = $_.Id; $_ } | Wait-ParallelTask } | Should -Throw 'upstream failed'
        $tasks = @(Get-ParallelTask -Id @(foreach ($key in $ids.Keys) { $ids[$key] }))
        $tasks.Count | Should -Be 3
        @($tasks | Where-Object State -ne 'Stopped').Count | Should -Be 0
        $tasks | Remove-ParallelTask
    }

    It 'stops only the tasks it waited on' {
        $waited = 1..2 | Start-ParallelTask { Start-Sleep -Seconds 30 }
        $other = Start-ParallelTask { Start-Sleep -Seconds 30 }
        $ready = New-SyncTable
        $null = Stop-LikeCtrlC 'param($m, $tasks, $ready) Import-Module $m; $ready.Go = 1; $tasks | Wait-ParallelTask' @($env:SYNCPOOL_MODULE_PATH, $waited, $ready)
        $waited.State | Should -Be @('Stopped', 'Stopped')
        $other.State | Should -Be 'Running'
        $other | Stop-ParallelTask
    }

    It 'Wait-ParallelTask -Timeout ends the unfinished ones TimedOut, queued ones included' {
        $tasks = 1..6 | Start-ParallelTask { if ($_ -gt 1) { Start-Sleep -Seconds 30 }; $_ } -ThrottleLimit 2
        $sw = [Diagnostics.Stopwatch]::StartNew()
        $tasks | Wait-ParallelTask -Timeout 1 -ErrorAction SilentlyContinue | Out-Null
        $sw.Elapsed.TotalSeconds | Should -BeLessThan 3
        $tasks[0].State | Should -Be 'Completed'
        @($tasks | Select-Object -Skip 1 | Where-Object State -ne 'TimedOut').Count | Should -Be 0
    }

    It 'interrupts a script stuck in a .NET wait when it is stopped' {
        $task = Start-ParallelTask { [Threading.Thread]::Sleep(600000) }
        Start-Sleep -Milliseconds 300
        $task | Stop-ParallelTask
        $task.State | Should -Be 'Stopped'
        $deadline = [DateTime]::UtcNow.AddSeconds(10)
        while ($task.Pool.Counts.Workers -gt 0 -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 20 }
        $task.Pool.Counts.Workers | Should -Be 0 -Because 'the interrupt ends the Sleep, so the worker is free'
        $task.Pool.Counts.AbandonedWorkers | Should -Be 0
    }
}

Describe 'Timeouts count from the start of each script' {
    BeforeEach { Register-CurrentTest }
    AfterAll { Get-ParallelTask | Remove-ParallelTask -Force }

    It 'does not count a slow -ImportModule against the tasks' {
        $module = Join-Path $TestDrive 'SlowImport.psm1'
        Set-Content -Path $module -Value 'Start-Sleep -Seconds 1; function Get-SlowAnswer { 42 }'
        $tasks = 1..4 | Start-ParallelTask { Get-SlowAnswer } -ImportModule $module -ThrottleLimit 2 -TimeoutSeconds 0.8
        $r = $tasks | Wait-ParallelTask -Timeout 60 -Receive
        $tasks.State | Should -Be @('Completed', 'Completed', 'Completed', 'Completed')
        $r | Should -Be @(42, 42, 42, 42)
    }

    It 'does not time out trivial tasks with a short limit, cold or warm' {
        foreach ($round in 1..2) {
            $tasks = 1..16 | Start-ParallelTask { 1 } -TimeoutSeconds 0.05 -ThrottleLimit 4 -ImportFunction 'Get-PeakOverlap'
            $null = $tasks | Wait-ParallelTask -Timeout 60
            @($tasks | Where-Object State -ne 'Completed').Count | Should -Be 0 -Because "round $round"
        }
    }

    It 'reports a runspace that cannot be set up as that, not as a timeout' {
        $module = Join-Path $TestDrive 'Broken.psm1'
        Set-Content -Path $module -Value 'throw "this module cannot load"'
        $tasks = 1..2 | Start-ParallelTask { 1 } -ImportModule $module -TimeoutSeconds 30
        $null = $tasks | Wait-ParallelTask -Timeout 60
        $tasks.State | Should -Be @('Failed', 'Failed')
        $tasks[0].Errors[0].FullyQualifiedErrorId | Should -BeLike 'SyncPool.RunspaceFailed*'
        $tasks[0].StatusMessage | Should -Match 'runspace could not be set up'
    }

    It 'times out a slow item in a batch of fast ones, and only it' {
        $tasks = 1..300 | Start-ParallelTask { if ($_ % 100 -eq 0) { Start-Sleep -Seconds 30 }; $_ } -ThrottleLimit 2 -TimeoutSeconds 2
        $null = $tasks | Wait-ParallelTask -Timeout 60
        @($tasks | Where-Object State -eq 'TimedOut').Input | Should -Be @(100, 200, 300)
        @($tasks | Where-Object State -eq 'Completed').Count | Should -Be 297
    }
}

Describe 'Tiny items are batched without losing per-item semantics' {
    BeforeEach { Register-CurrentTest }
    AfterAll { Get-ParallelTask | Remove-ParallelTask -Force }

    It 'runs thousands of tiny items in far fewer batches' {
        $before = (Get-EngineStats).batches
        $r = 1..5000 | Start-ParallelTask { $_ * 2 } -ThrottleLimit 4 | Wait-ParallelTask -Receive
        ($r | Measure-Object -Sum).Sum | Should -Be (5000 * 5001)
        ((Get-EngineStats).batches - $before) | Should -BeLessThan 500
    }

    It 'keeps begin/process/end, $_, errors and exit per item' {
        $tasks = 1..400 | Start-ParallelTask {
            begin { $seen = 0 }
            process { $seen++; if ($_ % 50 -eq 0) { throw "bad $_" }; if ($_ % 70 -eq 0) { exit 7 }; Write-Error "soft $_" -ErrorAction Continue; $_ }
            end { "seen $seen" }
        } -ThrottleLimit 2
        $null = $tasks | Wait-ParallelTask -Timeout 120
        $failed = @($tasks | Where-Object State -eq 'Failed')
        $failed.Input | Should -Be @(50, 100, 150, 200, 250, 300, 350, 400)
        $failed[0].Errors[-1].Exception.Message | Should -Be 'bad 50'
        $exited = @($tasks | Where-Object ExitCode -eq 7)
        $exited.Input | Should -Be @(70, 140, 210, 280)
        $ok = $tasks[0] | Receive-ParallelTask -ErrorVariable soft -ErrorAction SilentlyContinue
        $ok | Should -Be @(1, 'seen 1')
        $soft.Count | Should -Be 1
        $soft[0].Exception.Message | Should -Be 'soft 1'
        ($tasks[2] | Receive-ParallelTask -ErrorAction SilentlyContinue) | Should -Be @(3, 'seen 1')
    }

    It 'keys -AsHashtable by each item''s own input' {
        $r = 1..2000 | Start-ParallelTask { "v$_" } -ThrottleLimit 3 | Wait-ParallelTask -Receive -AsHashtable
        $r.Count | Should -Be 2000
        $r[1] | Should -Be 'v1'
        $r[2000] | Should -Be 'v2000'
        @($r.Keys | Where-Object { $r[$_] -ne "v$_" }).Count | Should -Be 0
    }

    It 'spreads a few long items over every worker even among many short ones' {
        $r = 1..40 | Start-ParallelTask {
            $start = [DateTime]::UtcNow
            if ($_ -le 4) { Start-Sleep -Milliseconds 800 }
            [pscustomobject]@{ Item = $_; Start = $start; End = [DateTime]::UtcNow }
        } -ThrottleLimit 4 | Wait-ParallelTask -Timeout 60 -Receive
        Get-PeakOverlap @($r | Where-Object Item -le 4) | Should -Be 4
    }
}

Describe 'A ConstrainedLanguage caller' {
    BeforeEach { Register-CurrentTest }

    It 'runs its tasks in ConstrainedLanguage, batched items included, with the same results' {
        # A child pwsh: a session cannot go back to FullLanguage once constrained.
        $child = Invoke-ChildPwsh -TimeoutSeconds 90 -Command @"
Import-Module '$env:SYNCPOOL_MODULE_PATH'
`$ExecutionContext.SessionState.LanguageMode = 'ConstrainedLanguage'
`$r = 1..300 | Start-ParallelTask { "`$_ `$(`$ExecutionContext.SessionState.LanguageMode)" } -ThrottleLimit 2 | Wait-ParallelTask -Receive
"count=`$(@(`$r).Count) modes=`$((`$r | ForEach-Object { (`$_ -split ' ')[1] } | Sort-Object -Unique) -join ',')"
`$t = Start-ParallelTask { param(`$x) `$x * 2; [System.IO.File]::Exists('/') } -InputObject 21
`$null = `$t | Wait-ParallelTask
`$id = `$t.Errors[0].FullyQualifiedErrorId
"state=`$(`$t.State) output=`$((`$t | Receive-ParallelTask -ErrorAction SilentlyContinue) -join ',') error=`$id"
"@
        $child.Output | Should -Contain 'count=300 modes=ConstrainedLanguage'
        # The method call is refused as ConstrainedLanguage refuses it; what ran before it stays.
        $child.Output | Should -Contain 'state=Failed output=42 error=MethodInvocationNotSupportedInConstrainedLanguage'
    }
}

Describe 'Warm runspaces and nothing left behind' {
    BeforeEach { Register-CurrentTest }

    It 'reuses the runspaces of an earlier call with the same setup' {
        $null = 1..4 | Start-ParallelTask { 1 } -ThrottleLimit 2 | Wait-ParallelTask -Receive
        $first = @(Get-Runspace | Where-Object Name -like 'SyncPool:Context*').Id
        $names = 1..4 | Start-ParallelTask { [runspace]::DefaultRunspace.Name } -ThrottleLimit 2 | Wait-ParallelTask -Receive
        $after = @(Get-Runspace | Where-Object Name -like 'SyncPool:Context*').Id
        @($after | Where-Object { $_ -notin $first }).Count | Should -Be 0 -Because 'no new runspace was created'
        @($names | Sort-Object -Unique).Count | Should -BeLessOrEqual 2
        $named = New-ParallelPool -ThrottleLimit 2
        $null = 1..4 | Start-ParallelTask { 1 } -Pool $named | Wait-ParallelTask -Receive
        @(Get-Runspace | Where-Object Name -like 'SyncPool:Context*' | Where-Object Id -notin $after).Count | Should -Be 0 -Because 'a named pool with the same setup uses the same warm runspaces'
        $named | Remove-ParallelPool
    }

    It 'leaves no task and no pool behind after the README pipeline, in a loop' {
        foreach ($round in 1..10) {
            $r = 1..2000 | Start-ParallelTask { "x$_" } -ThrottleLimit 4 | Wait-ParallelTask -Receive
            $r.Count | Should -Be 2000
        }
        @(Get-ParallelTask).Count | Should -Be 0
        @(Get-ParallelPool).Count | Should -Be 0
        (Get-EngineStats).tasks | Should -Be 0
    }

    It 'keeps tasks that were waited on without -Receive until they are received or removed' {
        $tasks = 1..3 | Start-ParallelTask { $_ } | Wait-ParallelTask
        @(Get-ParallelTask).Count | Should -Be 3
        ($tasks | Receive-ParallelTask -Keep) | Should -Be @(1, 2, 3)
        @(Get-ParallelTask).Count | Should -Be 3 -Because '-Keep keeps them'
        ($tasks | Receive-ParallelTask) | Should -Be @(1, 2, 3)
        @(Get-ParallelTask).Count | Should -Be 0
        $tasks.State | Should -Be @('Completed', 'Completed', 'Completed') -Because 'the objects keep their state'
    }
}

Describe 'Leaving pwsh' {
    BeforeEach { Register-CurrentTest }

    It 'exits at once with warm runspaces, a stopped pipeline among them, and a task still running' {
        $script = @"
Import-Module '$($env:SYNCPOOL_MODULE_PATH.Replace("'", "''"))'
`$done = 1, 1, 30 | Start-ParallelTask { Start-Sleep -Seconds `$_ } -ThrottleLimit 3 -TimeoutSeconds 2 | Wait-ParallelTask
`$null = Start-ParallelTask { Start-Sleep -Seconds 60 }
'states: ' + (`$done.State -join ', ')
exit 0
"@
        $watch = [Diagnostics.Stopwatch]::StartNew()
        $child = Invoke-ChildPwsh -Command $script -TimeoutSeconds 60
        $child.ExitCode | Should -Be 0 -Because $child.Error
        $child.Output | Should -Contain 'states: Completed, Completed, TimedOut'
        $watch.Elapsed.TotalSeconds | Should -BeLessThan 30 -Because 'exiting waits neither for the running task nor for runspaces to close'
    }
}
