-- Departments partition an application's data; a user belongs to at most one.
CREATE TABLE departments (
    app_id      TEXT NOT NULL REFERENCES applications (id),
    name        TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (app_id, name)
);

-- Departments already named by users become departments.
INSERT INTO departments (app_id, name, created_at)
    SELECT DISTINCT app_id, department, 0 FROM users WHERE department IS NOT NULL;
