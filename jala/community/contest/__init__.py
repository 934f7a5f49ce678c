"""The search contest (搜索大赛): rounds, one timed attempt, leaderboards."""
