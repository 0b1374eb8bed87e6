public enum DashboardInfo {}
